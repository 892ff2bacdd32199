"""The main job on sample data, through the services' staff APIs, with a summary at the end."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from werkbank.sample_data import generate

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class DemoResult:
    providers: dict[str, Any]
    needs: dict[str, Any]
    proposals: dict[str, list[dict[str, Any]]]
    meetings: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    seconds: float


class Staff:
    def __init__(self, urls: dict[str, str], token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        self.clients = {
            name: httpx.AsyncClient(base_url=url, headers=headers, timeout=30)
            for name, url in urls.items()
        }

    async def call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        answer = await self.clients[service].request(method, path, **kwargs)
        if answer.status_code >= 400:
            msg = f"{service} {method} {path}: {answer.status_code} {answer.text[:300]}"
            raise RuntimeError(msg)
        return answer.json()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


async def _gather_limited(calls: list[Any], limit: int = 8) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Any) -> Any:
        async with gate:
            return await call

    return await asyncio.gather(*(one(call) for call in calls))


async def load_sample(staff: Staff, data: dict[str, Any]) -> None:
    """The companies, providers and needs, stored by PUT: loading them again changes nothing."""
    for kind in ("companies", "providers", "needs"):  # companies before the needs they have
        await _gather_limited(
            [
                staff.call("matching", "PUT", f"/api/matching/{kind}/{key}", json=value)
                for key, value in data[kind].items()
            ]
        )


async def run_demo(
    urls: dict[str, str],
    token: str,
    console: Console,
    timeout: float = 120,
    data: dict[str, Any] | None = None,
) -> DemoResult:
    started = time.monotonic()
    data = data or generate()
    staff = Staff(urls, token)
    try:
        with Progress(console=console) as progress:
            loading = progress.add_task("loading companies, providers and needs", total=100)
            await load_sample(staff, data)
            progress.update(loading, completed=100)
            matching = progress.add_task(
                "matching needs and accepting the top proposals", total=len(data["needs"])
            )
            proposals: dict[str, list[dict[str, Any]]] = {}
            matches: set[str] = set()
            for need_id in data["needs"]:
                found = await staff.call("matching", "POST", f"/api/matching/needs/{need_id}/match")
                proposals[need_id] = found
                if found:
                    top = found[0]["proposal_id"]
                    accepted = await staff.call(
                        "matching", "POST", f"/api/matching/proposals/{top}/accept"
                    )
                    matches.add(accepted["match_id"])
                progress.advance(matching)
            booking = progress.add_task("booking meetings at the Werkbank", total=len(matches))

            # Only this run's meetings and deliveries count: a stack may hold older ones.
            async def ours() -> list[dict[str, Any]]:
                rows = await staff.call(
                    "booking", "GET", "/api/booking/meetings", params={"limit": 1000}
                )
                return [row for row in rows if row["match_id"] in matches]

            meetings = await _wait_for(
                ours, lambda rows: len(rows) >= len(matches), progress, booking, timeout
            )
            meeting_ids = {m["meeting_id"] for m in meetings}
            expected = _expected_deliveries(meetings)
            delivering = progress.add_task("delivering invites and SMS", total=expected)

            async def delivered() -> list[dict[str, Any]]:
                rows = await staff.call(
                    "notify", "GET", "/api/notify/deliveries", params={"limit": 5000}
                )
                return [row for row in rows if row["meeting_id"] in meeting_ids]

            def finished(rows: list[dict[str, Any]]) -> int:
                return sum(row["status"] in ("sent", "failed", "dead") for row in rows)

            deliveries = await _wait_for(
                delivered,
                lambda rows: finished(rows) >= expected,
                progress,
                delivering,
                timeout,
                measure=finished,
            )
    finally:
        await staff.close()
    return DemoResult(
        data["providers"],
        data["needs"],
        proposals,
        meetings,
        deliveries,
        time.monotonic() - started,
    )


def _expected_deliveries(meetings: list[dict[str, Any]]) -> int:
    total = 0
    for meeting in meetings:
        for attendee in meeting["details"]["attendees"]:
            contact = attendee["contact"]
            total += bool(contact.get("email")) + bool(
                contact.get("phone") and contact.get("sms_consent")
            )
    return total


async def _wait_for(
    fetch: Any, done: Any, progress: Progress, task: Any, timeout: float, measure: Any = len
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        rows = await fetch()
        progress.update(task, completed=measure(rows))
        if done(rows):
            return rows
        if time.monotonic() > deadline:
            msg = "the flow did not finish in time; see the service logs"
            raise TimeoutError(msg)
        await asyncio.sleep(0.3)


def _local(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(BERLIN).strftime("%a %d.%m.%Y %H:%M")


def print_summary(result: DemoResult, console: Console, mail_dir: Path, sms_file: Path) -> None:
    needs = Table(title=f"Needs ({len(result.needs)})")
    for column in ("need", "company", "title", "category"):
        needs.add_column(column)
    for need_id, need in list(result.needs.items())[:12]:
        needs.add_row(need_id, need["company_id"], need["title"], ", ".join(need["categories"]))
    console.print(needs)
    console.print(f"… and {max(0, len(result.needs) - 12)} more needs")

    proposals = Table(
        title="Proposals with their reasons (first 6 needs, top 2 each)",
        caption="Scores within 0.02 count as equal: among them, the provider shown least often "
        "so far comes first (neutral rotation).",
    )
    for column in ("need", "rank", "provider", "score", "why (the three largest parts)"):
        proposals.add_column(column)
    for need_id, found in list(result.proposals.items())[:6]:
        for proposal in found[:2]:
            parts = sorted(proposal["breakdown"], key=lambda c: -c["contribution"])[:3]
            reasons = "; ".join(f"+{c['contribution']:.2f} {c['reason_de']}" for c in parts)
            name = result.providers.get(proposal["provider_id"], {}).get("name", "")
            proposals.add_row(
                need_id,
                str(proposal["rank"]),
                name or proposal["provider_id"],
                f"{proposal['score']:.3f}",
                reasons,
            )
    console.print(proposals)

    meetings = Table(title=f"Meetings ({len(result.meetings)}), times in Europe/Berlin")
    for column in ("meeting", "when", "room", "company", "provider"):
        meetings.add_column(column)
    for meeting in result.meetings[:20]:
        details = meeting["details"]
        parties = {a["party_kind"]: a["party_name"] for a in details["attendees"]}
        meetings.add_row(
            meeting["meeting_id"],
            _local(details["start"]),
            details["place"].get("room_name") or details["place"]["name"],
            parties.get("company", ""),
            parties.get("provider", ""),
        )
    console.print(meetings)
    console.print(f"… and {max(0, len(result.meetings) - 20)} more meetings")

    outcome = Counter((d["channel"], d["status"]) for d in result.deliveries)
    deliveries = Table(title="Deliveries")
    for column in ("channel", "status", "count"):
        deliveries.add_column(column)
    for (channel, status), count in sorted(outcome.items()):
        deliveries.add_row(channel, status, str(count))
    console.print(deliveries)
    console.print(f"Invites (.eml with the .ics inside): {mail_dir}")
    console.print(f"SMS (one JSON line each): {sms_file}")
    console.print(f"[green]Done in {result.seconds:.1f} s after setup.[/]")

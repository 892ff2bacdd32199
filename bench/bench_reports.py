"""Berichte with three years of a large office: 50,000 needs, 100,000 meetings, 500,000
deliveries bulk-inserted into the console's report read model; the page's p95 over HTTP and the
monthly PDF. Baselines, in the same run: /healthz requested by turns with the page, and the PDF
of the empty read model."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.common import BenchContext, Figure, percentile
from tests.support.harness import ServiceProcess
from werkbank.stack import StackInfo

NEEDS, MEETINGS, DELIVERIES = 50_000, 100_000, 500_000
PROVIDERS, PROPOSALS_PER_NEED = 300, 3
REQUESTS = 40
CATEGORIES = [f"cat.{n:02d}" for n in range(20)]
SECTORS = list("ACFGHIJKMNQS")
DISTRICTS = [f"Bezirk {n}" for n in range(12)]
SIZES = ["micro", "small", "medium", "large"]
SPAN = timedelta(days=3 * 365)


def _dims(rng: random.Random) -> tuple[str, str, str, str]:
    return rng.choice(CATEGORIES), rng.choice(SECTORS), rng.choice(DISTRICTS), rng.choice(SIZES)


def _needs(rng: random.Random, now: datetime) -> list[tuple[Any, ...]]:
    rows = []
    for n in range(NEEDS):
        received = now - SPAN * rng.random()
        category, sector, district, size = _dims(rng)
        hours = [timedelta(hours=rng.expovariate(1 / h)) for h in (30, 200, 900)]
        rows.append(
            (
                f"need-{n}",
                f"company-{n % 20_000}",
                category,
                sector,
                district,
                size,
                received,
                received + hours[0],
                received + hours[0] if n % 3 else None,
                received + hours[1] if n % 2 else None,
                received + hours[1] if n % 4 else None,
                received + hours[2] if n % 5 == 0 else None,
                "project_started" if n % 5 == 0 else None,
            )
        )
    return rows


def _meetings(rng: random.Random, needs: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    rows = []
    for m in range(MEETINGS):
        need = needs[m % NEEDS]
        starts = need[6] + timedelta(days=rng.uniform(2, 30))
        rows.append(
            (
                f"meeting-{m}",
                need[0],
                f"provider-{rng.randrange(PROVIDERS)}",
                *need[2:6],
                starts,
                "cancelled" if m % 11 == 0 else "confirmed",
                m % 13 == 0,
                rng.choice(("held", "held", "held", "no_show", None)),
            )
        )
    return rows


def _deliveries(rng: random.Random, meetings: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    rows = []
    for d in range(DELIVERIES):
        meeting = meetings[d % MEETINGS]
        status = "failed" if d % 97 == 0 else "delivered"
        at = meeting[7] - timedelta(days=rng.uniform(0, 5))
        rows.append(
            (
                f"delivery-{d}",
                meeting[0],
                "sms" if d % 4 == 0 else "email",
                status,
                at,
                *meeting[3:7],
            )
        )
    return rows


def _proposals(rng: random.Random, needs: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    rows = []
    for need in needs:
        tied = rng.random() < 0.3
        for rank in range(1, PROPOSALS_PER_NEED + 1):
            rows.append(
                (
                    f"prop-{need[0]}-{rank}",
                    f"run-{need[0]}",
                    need[0],
                    f"provider-{rng.randrange(PROVIDERS)}",
                    need[2],
                    rank,
                    tied and rank <= 2,
                    tied and rank == 1,
                    rank == 1 and need[8] is not None,
                    need[7],
                )
            )
    return rows


async def fill(conn: asyncpg.Connection, schema: str) -> None:
    rng = random.Random(19)
    now = datetime.now(UTC)
    needs = _needs(rng, now)
    meetings = _meetings(rng, needs)
    tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {
        "report_needs": (
            [
                "need_id",
                "company_id",
                "category",
                "sector",
                "district",
                "size_class",
                "received_at",
                "proposed_at",
                "matched_at",
                "meeting_at",
                "met_at",
                "outcome_at",
                "outcome",
            ],
            needs,
        ),
        "report_meetings": (
            [
                "meeting_id",
                "need_id",
                "provider_id",
                "category",
                "sector",
                "district",
                "size_class",
                "starts_at",
                "status",
                "declined",
                "attendance",
            ],
            meetings,
        ),
        "report_deliveries": (
            [
                "delivery_id",
                "meeting_id",
                "channel",
                "status",
                "at",
                "category",
                "sector",
                "district",
                "size_class",
            ],
            _deliveries(rng, meetings),
        ),
        "report_proposals": (
            [
                "proposal_id",
                "run_id",
                "need_id",
                "provider_id",
                "category",
                "rank",
                "tied",
                "first_tied",
                "chosen",
                "proposed_at",
            ],
            _proposals(rng, needs),
        ),
        "report_feedback": (
            [
                "meeting_id",
                "given_by",
                "need_id",
                "category",
                "sector",
                "district",
                "size_class",
                "rating",
                "outcome",
                "given_at",
            ],
            [
                (
                    m[0],
                    "company",
                    m[1],
                    *m[3:7],
                    1 + i % 4,
                    ("project_started", "in_progress", "no_follow_up")[i % 3],
                    m[7],
                )
                for i, m in enumerate(meetings[:30_000])
            ],
        ),
        "report_runs": (
            ["run_id", "proposed_at", "taxonomy_version", "tolerance", "weights"],
            [
                (f"run-{n[0]}", n[7], "2026.1", 0.02, '{"text": 0.3, "category": 0.4}')
                for n in needs[:5000]
            ],
        ),
        "providers": (
            ["provider_id", "name", "categories", "capacity", "updated_at"],
            [
                (f"provider-{p}", f"Anbieter {p}", [CATEGORIES[p % 20]], 40, now)
                for p in range(PROVIDERS)
            ],
        ),
    }
    for table, (columns, records) in tables.items():
        await conn.copy_records_to_table(
            table, records=records, columns=columns, schema_name=schema
        )
    await conn.execute(f'SET search_path TO "{schema}"')
    await conn.execute("VACUUM ANALYZE")  # as autovacuum leaves a settled database


async def page_p95(client: httpx.AsyncClient, path: str) -> tuple[float, float]:
    """p95 of the page and of /healthz, requested by turns so that the machine's load at the
    moment weighs on both alike (the baseline)."""
    samples: dict[str, list[float]] = {path: [], "/healthz": []}
    await client.get(path)  # warm: templates compiled, plans cached
    for _ in range(REQUESTS):
        for target, times in samples.items():
            started = time.perf_counter()
            answer = await client.get(target)
            times.append(time.perf_counter() - started)
            answer.raise_for_status()
    return percentile(samples[path], 95) * 1000, percentile(samples["/healthz"], 95) * 1000


async def pdf_seconds(client: httpx.AsyncClient, month: str) -> float:
    started = time.perf_counter()
    answer = await client.get(f"/berichte/monatsbericht.pdf?monat={month}", timeout=120)
    answer.raise_for_status()
    assert answer.content.startswith(b"%PDF")
    return time.perf_counter() - started


def _console(stack: StackInfo, schema: str) -> ServiceProcess:
    env = {
        key: value
        for key, value in stack.service_env("CONSOLE_").items()
        if "OIDC" not in key  # pages without sign-in: the bench measures the report, not the IdP
    }
    env["CONSOLE_DB_SCHEMA"] = schema
    return ServiceProcess("services.console", env, "CONSOLE_HTTP_PORT")


async def run(context: BenchContext) -> list[Figure]:
    stack = context.stack()
    schema = f"bench_reports_{uuid.uuid4().hex[:6]}"
    console = _console(stack, schema)
    await console.start(timeout=180)
    month = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    path = "/berichte"
    filtered = "/berichte?kategorie=cat.03&bezirk=Bezirk%203&nach=groesse"
    try:
        async with httpx.AsyncClient(base_url=console.base_url, timeout=60) as client:
            empty_page, _ = await page_p95(client, path)
            empty_pdf = await pdf_seconds(client, month)
            conn = await asyncpg.connect(stack.database_url)
            try:
                loading = time.perf_counter()
                await fill(conn, schema)
                load_seconds = time.perf_counter() - loading
            finally:
                await conn.close()
            full_page, health = await page_p95(client, path)
            filtered_page, health_filtered = await page_p95(client, filtered)
            full_pdf = await pdf_seconds(client, month)
    finally:
        console.stop()
    volume = f"{NEEDS} needs, {MEETINGS} meetings, {DELIVERIES} deliveries over 3 years"
    return [
        Figure(
            "reports_page_p95_ms",
            full_page,
            "ms",
            baseline=health,
            goal="<= 300 ms",
            note=f"GET /berichte (last 12 months), {volume}; baseline: GET /healthz by turns; "
            f"the page on the empty read model: {empty_page:.0f} ms",
        ),
        Figure(
            "reports_page_filtered_p95_ms",
            filtered_page,
            "ms",
            baseline=health_filtered,
            goal="<= 300 ms",
            note="category + district filter, broken down by size class; baseline: /healthz",
        ),
        Figure(
            "reports_monthly_pdf_s",
            full_pdf,
            "s",
            baseline=empty_pdf,
            goal="<= 10 s",
            note=f"WeasyPrint, month {month}; baseline: the same PDF of an empty read model",
        ),
        Figure(
            "reports_bulk_load_s", load_seconds, "s", note="COPY of the read model + VACUUM ANALYZE"
        ),
    ]

"""The whole flow over the real servers, with the three services as separate processes."""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from shared.addresses import canonical_address
from tests.matching.sample import BAUSTOFF, CHAT_NEED
from tests.support.calendar_checks import check_calendar_object
from tests.support.harness import ServiceProcess, eventually
from werkbank.cli import app
from werkbank.demo import run_demo
from werkbank.sample_data import generate
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
TOKEN = "e2e-token"


@pytest.fixture(scope="module")
async def services(stack: StackInfo) -> AsyncIterator[dict[str, ServiceProcess]]:
    suffix = uuid.uuid4().hex[:6]
    running: dict[str, ServiceProcess] = {}
    try:
        for name in ("matching", "booking", "notify"):
            prefix = f"{name.upper()}_"
            env = {
                **stack.service_env(prefix),
                f"{prefix}DB_SCHEMA": f"e2e_{name}_{suffix}",
                f"{prefix}STAFF_TOKEN": TOKEN,
                f"{prefix}STATIC_TOKEN_ENABLED": "true",
            }
            running[name] = ServiceProcess(f"services.{name}", env, f"{prefix}HTTP_PORT")
            await running[name].start()
        yield running
    finally:
        for process in running.values():
            process.stop()


def invites(mail_dir: str, method: str) -> Counter[str]:
    received: Counter[str] = Counter()
    for path in Path(mail_dir).glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/calendar" and part.get_param("method") == method:
                received[str(message["To"]).split("<")[-1].rstrip(">").lower()] += 1
    return received


async def test_needs_become_proposals_meetings_invites_and_sms_and_a_cancel_reaches_everyone(
    services: dict[str, ServiceProcess], stack: StackInfo
) -> None:
    data = generate(companies=12, providers=12, seed=7)
    urls = {name: process.base_url for name, process in services.items()}
    result = await run_demo(urls, TOKEN, Console(quiet=True), timeout=90, data=data)

    assert all(result.proposals[need_id] for need_id in data["needs"]), "every need got proposals"
    meetings = {m["match_id"]: m for m in result.meetings}
    assert len(meetings) == len(result.meetings) == len(data["needs"])
    spans = sorted(
        (m["starts_at"], m["ends_at"], m["details"]["place"]["room_id"]) for m in result.meetings
    )
    for room in {span[2] for span in spans}:
        in_room = [span for span in spans if span[2] == room]
        for earlier, later in itertools.pairwise(in_room):
            assert earlier[1] <= later[0], "two meetings overlap in one room"

    attendees = [
        attendee["contact"]
        for meeting in result.meetings
        for attendee in meeting["details"]["attendees"]
    ]
    requests = invites(stack.mail_dir, "REQUEST")
    for contact in attendees:
        address = contact["email"].lower().split("@")
        assert requests[canonical_address("@".join(address))] >= 1
    per_meeting = Counter(d["meeting_id"] for d in result.deliveries if d["channel"] == "email")
    assert all(count == 2 for count in per_meeting.values()), "exactly one invite per attendee"
    assert {d["status"] for d in result.deliveries} == {"sent"}

    phones = {c["phone"] for c in attendees if c.get("phone") and c.get("sms_consent")}
    sms_lines = Path(stack.sms_file).read_text(encoding="utf-8")
    assert phones
    assert all(phone in sms_lines for phone in phones)

    meeting = result.meetings[0]
    runner = CliRunner()
    outcome = runner.invoke(
        app,
        ["cancel", meeting["meeting_id"], "--json"],
        env={"WERKBANK_BOOKING_URL": urls["booking"], "WERKBANK_STAFF_TOKEN": TOKEN},
    )
    assert outcome.exit_code == 0, outcome.output
    cancelled_for = [a["contact"]["email"] for a in meeting["details"]["attendees"]]

    async def cancels_arrived() -> bool:
        cancels = invites(stack.mail_dir, "CANCEL")
        return all(cancels[canonical_address(e.lower())] >= 1 for e in cancelled_for)

    await eventually(cancels_arrived, timeout=30)
    assert_every_calendar_object_is_sound(stack.mail_dir)
    assert_no_personal_data_in_logs(services, attendees)


def assert_every_calendar_object_is_sound(mail_dir: str) -> None:
    """Each invite, update and cancellation the demo mailed parses in icalendar, ical and
    vobject, passes the VTIMEZONE offset check, and names its recipient as an attendee."""
    checked = 0
    for path in Path(mail_dir).glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        recipient = str(message["To"]).split("<")[-1].rstrip(">")
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                calendar = check_calendar_object(part.get_content())
                attendees = calendar.walk("VEVENT")[0].get("ATTENDEE")
                attendees = attendees if isinstance(attendees, list) else [attendees]
                assert f"mailto:{recipient}".lower() in {str(a).lower() for a in attendees}
                checked += 1
    assert checked


def assert_no_personal_data_in_logs(
    services: dict[str, ServiceProcess], contacts: list[dict[str, str]]
) -> None:
    """No email address, phone number or name of a contact in any log line, at any level."""
    secrets = {
        value.lower()
        for contact in contacts
        for value in (contact["email"], contact.get("phone"), contact.get("name"))
        if value
    }
    assert secrets
    for name, process in services.items():
        logs = process.logs().lower()
        assert logs, f"{name} wrote no log"
        found = sorted(secret for secret in secrets if secret in logs)
        assert not found, f"{name}'s log names contacts: {found[:5]}"


async def test_the_cli_imports_csv_and_json_and_shows_what_is_wrong(
    services: dict[str, ServiceProcess], tmp_path: Path
) -> None:
    env = {"WERKBANK_MATCHING_URL": services["matching"].base_url, "WERKBANK_STAFF_TOKEN": TOKEN}
    companies = tmp_path / "companies.json"
    companies.write_text(json.dumps([{"company_id": "co-bau", **BAUSTOFF}]), encoding="utf-8")
    providers = tmp_path / "providers.csv"
    providers.write_text(
        (Path(__file__).parents[1] / "matching" / "providers_import.csv").read_text("utf-8"),
        encoding="utf-8",
    )
    runner = CliRunner()
    for kind, path in (("companies", companies), ("providers", providers)):
        outcome = runner.invoke(app, ["import", kind, str(path), "--json"], env=env)
        assert outcome.exit_code == 0, outcome.output
        assert json.loads(outcome.output)["created"] >= 1
    wrong = tmp_path / "needs.json"
    wrong.write_text(
        json.dumps([{"need_id": "n-1", **CHAT_NEED, "categories": ["market.telepathy"]}]),
        encoding="utf-8",
    )
    outcome = runner.invoke(app, ["import", "needs", str(wrong)], env=env)
    assert outcome.exit_code == 1
    assert "nothing was imported" in outcome.output
    assert "categories" in outcome.output


async def test_the_cli_loads_the_sample_region_and_explains_each_proposal(
    services: dict[str, ServiceProcess],
) -> None:
    env = {"WERKBANK_MATCHING_URL": services["matching"].base_url, "WERKBANK_STAFF_TOKEN": TOKEN}
    runner = CliRunner()
    loaded = runner.invoke(app, ["sample", "--json"], env=env)
    assert loaded.exit_code == 0, loaded.output
    counts = {row["kind"]: row["loaded"] for row in json.loads(loaded.output)}
    assert counts == {"companies": 60, "providers": 40, "needs": 60}
    listed = runner.invoke(app, ["needs", "--json"], env=env)
    assert "need-001" in [need["need_id"] for need in json.loads(listed.output)]
    shown = runner.invoke(app, ["match", "need-001"], env={**env, "COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "passende Themen" in shown.output, "each proposal says why, in German"

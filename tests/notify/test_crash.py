"""SIGKILL notify in the middle of 500 deliveries: nothing is lost, duplicates stay rare."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.events.booking import MeetingDetails
from tests.notify.test_delivery import confirmed, details
from tests.support.harness import ServiceProcess, eventually, nats_client, publish
from werkbank.sinks import SmtpSink
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
MEETINGS = 250  # two attendees each: 500 emails


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    server = SmtpSink(tmp_path / "mail")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def notify(stack: StackInfo, sink: SmtpSink) -> AsyncIterator[ServiceProcess]:
    env = {
        **stack.service_env("NOTIFY_"),
        "NOTIFY_SMTP_HOST": sink.host,
        "NOTIFY_SMTP_PORT": str(sink.port),
        "NOTIFY_DB_SCHEMA": f"notify_crash_{uuid.uuid4().hex[:6]}",
        "NOTIFY_STAFF_TOKEN": "t",
        "NOTIFY_STATIC_TOKEN_ENABLED": "true",
    }
    process = ServiceProcess("services.notify", env, "NOTIFY_HTTP_PORT")
    await process.start()
    yield process
    process.stop()


def email_only(meeting: MeetingDetails, domain: str) -> MeetingDetails:
    attendees = tuple(
        attendee.model_copy(
            update={
                "contact": attendee.contact.model_copy(
                    update={"phone": None, "email": f"{attendee.contact.contact_id}@{domain}"}
                )
            }
        )
        for attendee in meeting.attendees
    )
    return meeting.model_copy(update={"attendees": attendees})


def received(sink: SmtpSink, domain: str) -> list[tuple[str, str]]:
    """(recipient, Message-ID) of every message the sink accepted for this test."""
    return [
        (str(message["To"]), str(message["Message-ID"]))
        for message in sink.messages()
        if domain in str(message["To"])
    ]


async def test_sigkill_mid_delivery_loses_nothing_and_duplicates_at_most_one(
    notify: ServiceProcess, stack: StackInfo, sink: SmtpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    domain = f"crash-{uuid.uuid4().hex[:6]}.example.org"
    meetings = [email_only(details(), domain) for _ in range(MEETINGS)]
    expected = {str(a.contact.email) for m in meetings for a in m.attendees}
    assert len(expected) == 2 * MEETINGS
    async with nats_client(stack.nats_url) as client:
        for meeting in meetings:
            await publish(client, confirmed(meeting))

    async def some_arrived() -> bool:
        return len(received(sink, domain)) >= 120

    await eventually(some_arrived, interval=0.01)
    notify.kill()
    at_crash = len(received(sink, domain))
    assert at_crash < len(expected), "the crash must happen mid-way"
    await notify.start()

    async def everyone_reached() -> bool:
        return {to.split("<")[-1].rstrip(">") for to, _ in received(sink, domain)} >= expected

    # Events the dead process had pulled come back after the consumer's ack wait (10 s).
    await eventually(everyone_reached, timeout=90, interval=0.5)
    messages = received(sink, domain)
    duplicates = len(messages) - len(set(messages))
    with capsys.disabled():
        print(  # noqa: T201 - the issue asks for the duplicate count to be reported
            f"\n  crash after {at_crash} of {len(expected)} emails: "
            f"{len(messages)} accepted, {duplicates} duplicate(s) for 1 crash"
        )
    assert duplicates <= 1
    per_recipient = Counter(to for to, _ in messages)
    for (to, message_id), count in Counter(messages).items():
        assert count == per_recipient[to], f"a duplicate for {to} carries the same Message-ID"
        assert message_id.endswith("@werkbank.local>")

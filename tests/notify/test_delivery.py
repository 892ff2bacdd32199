"""notify against a real aiosmtpd server and a real HTTP SMS gateway."""
# mypy: disable-error-code="union-attr, index, call-overload, attr-defined"
# email.message parts are typed as unions of str and Message; the tests read known MIME trees.

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from ical.calendar_stream import IcsCalendarStream

from services.booking.domain.calendar import BERLIN
from services.booking.service import build_calendar
from services.notify.app import build
from services.notify.repository import delivery_id
from services.notify.settings import NotifySettings
from shared.events.base import Envelope, wrap
from shared.events.booking import (
    Attendee,
    CalendarMethod,
    MeetingCancelled,
    MeetingConfirmed,
    MeetingDetails,
    MeetingRescheduled,
    Organizer,
    Place,
)
from shared.events.common import Contact, PartyKind
from shared.events.notify import NotificationFailed
from tests.support.calendar_checks import check_calendar_object
from tests.support.harness import RunningService, eventually, in_process, nats_client, publish
from tests.support.streams import read_all
from werkbank.sinks import SmsSink, SmtpSink
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
NOON = datetime(2026, 6, 1, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    sink = SmtpSink(tmp_path_factory.mktemp("mail"))
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def sms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsSink]:
    sink = SmsSink(tmp_path_factory.mktemp("sms") / "sms.jsonl")
    sink.start()
    yield sink
    sink.stop()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
async def notify(
    stack: StackInfo, smtp: SmtpSink, sms: SmsSink, clock: Clock
) -> AsyncIterator[RunningService]:
    smtp.faults.clear()
    sms.faults.clear()
    settings = NotifySettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        db_schema=f"notify_{uuid.uuid4().hex[:8]}",
        staff_token="t",  # type: ignore[arg-type]
        static_token_enabled=True,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        sms_gateway_url=sms.url,
        held_poll_seconds=0.2,
        email_per_recipient_per_hour=2,
    )
    async with in_process(build(settings)) as running:
        running.runtime.state["outbound"].clock = clock
        yield running


def details(meeting_id: str | None = None) -> MeetingDetails:
    meeting_id = meeting_id or f"mtg-{uuid.uuid4().hex[:10]}"
    start = datetime(2026, 6, 2, 10, tzinfo=BERLIN)
    return MeetingDetails(
        meeting_id=meeting_id,
        match_id="match-1",
        need_id="need-1",
        title="Kundenchat",
        start=start.astimezone(UTC),
        end=(start + timedelta(hours=1)).astimezone(UTC),
        place=Place(
            venue_id="werkbank",
            name="Digitale Werkbank",
            kind="in_person",
            address="Königswall 21, 44137 Dortmund",
            room_name="Werkraum 1",
        ),
        organizer=Organizer(name="Digitale Werkbank", email="werkbank@example.org"),
        attendees=(
            Attendee(
                party_id="co-1",
                party_kind=PartyKind.COMPANY,
                party_name="Baustoffe Westfalen",
                contact=Contact(
                    contact_id=f"{meeting_id}-petra",
                    name="Petra Schulte",
                    email=f"petra.{meeting_id}@example.org",
                    phone="+49 231 1234567",
                    sms_consent=True,
                ),
                rsvp_url="http://127.0.0.1:8082/rsvp/abc",
            ),
            Attendee(
                party_id="p-1",
                party_kind=PartyKind.PROVIDER,
                party_name="ChatWerk",
                contact=Contact(
                    contact_id=f"{meeting_id}-aylin",
                    name="Aylin Demir",
                    email=f"aylin.{meeting_id}@example.org",
                    locale="en",
                ),
            ),
        ),
    )


def confirmed(meeting: MeetingDetails) -> Envelope[MeetingConfirmed]:
    calendar = build_calendar(
        meeting, f"{meeting.meeting_id}@werkbank", 0, CalendarMethod.REQUEST, NOON
    )
    return wrap(MeetingConfirmed(meeting=meeting, calendar=calendar), source="booking")


def mails_to(smtp: SmtpSink, address: str) -> list[EmailMessage]:
    return [m for m in smtp.messages() if address in str(m["To"])]


async def test_invites_and_cancels_arrive_as_imip_with_the_right_mime_tree(
    notify: RunningService, stack: StackInfo, smtp: SmtpSink, sms: SmsSink, clock: Clock
) -> None:
    meeting = details()
    invite = confirmed(meeting)
    async with nats_client(stack.nats_url) as client:
        await publish(client, invite)
        petra = str(meeting.attendees[0].contact.email)

        async def arrived() -> bool:
            return len(mails_to(smtp, petra)) == 1

        await eventually(arrived)
        moved = meeting.model_copy(
            update={
                "start": meeting.start + timedelta(days=1),
                "end": meeting.end + timedelta(days=1),
            }
        )
        update_calendar = build_calendar(
            moved, f"{meeting.meeting_id}@werkbank", 1, CalendarMethod.REQUEST, NOON
        )
        rescheduled = MeetingRescheduled(
            meeting=moved,
            previous_start=meeting.start,
            previous_end=meeting.end,
            calendar=update_calendar,
        )
        await publish(client, wrap(rescheduled, source="booking"))

        async def updated() -> bool:
            return len(mails_to(smtp, petra)) == 2

        await eventually(updated)
        clock.now += timedelta(hours=1)  # two emails per recipient and hour in these tests
        cancel_calendar = build_calendar(
            moved, f"{meeting.meeting_id}@werkbank", 2, CalendarMethod.CANCEL, NOON
        )
        await publish(
            client,
            wrap(MeetingCancelled(meeting=moved, calendar=cancel_calendar), source="booking"),
        )

        async def cancelled() -> bool:
            return len(mails_to(smtp, petra)) == 3

        await eventually(cancelled)
    mails = mails_to(smtp, petra)
    for message, method in zip(mails, ("REQUEST", "REQUEST", "CANCEL"), strict=True):
        assert message.get_content_type() == "multipart/mixed"
        assert message["Content-Class"] == "urn:content-classes:calendarmessage"
        alternative = message.get_payload()[0]
        assert [p.get_content_type() for p in alternative.get_payload()] == [
            "text/plain",
            "text/html",
            "text/calendar",
        ]
        calendar_part = alternative.get_payload()[2]
        assert calendar_part.get_param("method") == method
        ics = calendar_part.get_content()
        ics = ics if isinstance(ics, str) else ics.decode()
        assert check_calendar_object(ics)["METHOD"] == method
        assert (
            IcsCalendarStream.calendar_from_ics(ics).events[0].uid
            == f"{meeting.meeting_id}@werkbank"
        )
        attachment = message.get_payload()[1]
        assert attachment.get_filename() == "invite.ics"
        assert attachment.get_param("name") == "invite.ics"
        assert str(message["From"]) == "Digitale Werkbank <werkbank@example.org>"
        assert message["Message-ID"].endswith("@werkbank.local>")
    update_text = mails[1].get_payload()[0].get_payload()[0].get_content()
    assert "Bisher: 02.06.2026, 10:00 bis 11:00 Uhr" in update_text
    assert "Neue Zeit: 03.06.2026, 10:00 bis 11:00 Uhr" in update_text
    assert "Aylin Demir (ChatWerk)" in update_text
    invite_html = mails[0].get_payload()[0].get_payload()[1].get_content()
    assert '<a href="http://127.0.0.1:8082/rsvp/abc">' in invite_html
    cancel_text = mails[2].get_payload()[0].get_payload()[0].get_content()
    assert "/rsvp/" not in cancel_text
    english = mails_to(smtp, str(meeting.attendees[1].contact.email))[0]
    assert "Invitation" in str(english["Subject"])
    assert any(m.get("to") == "+492311234567" for m in sms.messages())


async def test_smtp_451_twice_is_delivered_on_the_third_attempt_and_550_fails_at_once(
    notify: RunningService, stack: StackInfo, smtp: SmtpSink
) -> None:
    smtp.fail_next(451, "greylisted", times=4)  # two recipients, each refused twice
    meeting = details()
    async with nats_client(stack.nats_url) as client:
        await publish(client, confirmed(meeting))
        petra = str(meeting.attendees[0].contact.email)
        aylin = str(meeting.attendees[1].contact.email)

        async def both_arrived() -> bool:
            return len(mails_to(smtp, petra)) == 1 and len(mails_to(smtp, aylin)) == 1

        await eventually(both_arrived, timeout=30)
        async with notify.client("t") as staff:
            log = (
                await staff.get("/api/notify/deliveries", params={"meeting_id": meeting.meeting_id})
            ).json()
        attempts = {row["contact_id"]: row["attempts"] for row in log if row["channel"] == "email"}
        assert attempts == dict.fromkeys(attempts, 3)

        smtp.fail_next(550, "no such user")
        rejected = details()
        await publish(client, confirmed(rejected))

        async def failed() -> bool:
            messages = await read_all(client, "NOTIFY", "notify.notification.failed", idle=0.2)
            return any(rejected.meeting_id.encode() in m.data for m in messages)

        await eventually(failed)
        [failure] = [
            Envelope[NotificationFailed].model_validate_json(m.data).data
            for m in await read_all(client, "NOTIFY", "notify.notification.failed")
            if rejected.meeting_id.encode() in m.data
        ]
    assert failure.permanent
    assert failure.attempts == 1
    assert "550" in failure.reason


async def test_a_gateway_429_backs_off_and_the_sms_goes_out_later(
    notify: RunningService, stack: StackInfo, sms: SmsSink
) -> None:
    sms.fail_next(429, times=1)
    meeting = details()
    async with nats_client(stack.nats_url) as client:
        await publish(client, confirmed(meeting))

    async def sent() -> bool:
        return any(
            meeting.title in m.get("text", "") and m.get("to") == "+492311234567"
            for m in sms.messages()
        ) and (await _status(notify, meeting.meeting_id, "sms") == "sent")

    await eventually(sent, timeout=20)
    async with notify.client("t") as staff:
        log = (
            await staff.get("/api/notify/deliveries", params={"meeting_id": meeting.meeting_id})
        ).json()
    assert [row["attempts"] for row in log if row["channel"] == "sms"] == [2]


async def _status(notify: RunningService, meeting_id: str, channel: str) -> str | None:
    async with notify.client("t") as staff:
        log = (await staff.get("/api/notify/deliveries", params={"meeting_id": meeting_id})).json()
    return next((row["status"] for row in log if row["channel"] == channel), None)


async def test_quiet_hours_hold_an_sms_until_morning_and_then_send_it(
    notify: RunningService, stack: StackInfo, sms: SmsSink, clock: Clock
) -> None:
    clock.now = datetime(2026, 6, 1, 21, 30, tzinfo=BERLIN).astimezone(UTC)
    meeting = details()
    before = len(sms.messages())
    async with nats_client(stack.nats_url) as client:
        await publish(client, confirmed(meeting))

    async def held() -> bool:
        return await _status(notify, meeting.meeting_id, "sms") == "held"

    await eventually(held)
    assert len(sms.messages()) == before
    clock.now = datetime(2026, 6, 2, 8, 0, 1, tzinfo=BERLIN).astimezone(UTC)

    async def sent() -> bool:
        return await _status(notify, meeting.meeting_id, "sms") == "sent"

    await eventually(sent)
    assert len(sms.messages()) == before + 1


def with_company_email(meeting: MeetingDetails, address: str) -> MeetingDetails:
    company, provider = meeting.attendees
    contact = company.contact.model_copy(update={"email": address})
    return meeting.model_copy(
        update={"attendees": (company.model_copy(update={"contact": contact}), provider)}
    )


async def test_a_recipient_over_the_hourly_email_limit_waits_and_loses_nothing(
    notify: RunningService, stack: StackInfo, smtp: SmtpSink, clock: Clock
) -> None:
    address = f"einkauf.{uuid.uuid4().hex[:8]}@example.org"
    meetings = [with_company_email(details(), address) for _ in range(3)]
    async with nats_client(stack.nats_url) as client:
        for meeting in meetings:
            await publish(client, confirmed(meeting))

    async def company_email_status(meeting: MeetingDetails) -> str:
        contact = meeting.attendees[0].contact.contact_id
        async with notify.client("t") as staff:
            log = (await staff.get("/api/notify/deliveries", params={"contact_id": contact})).json()
        # Nothing yet while the event is still on its way: not planned is not an error.
        return next((str(row["status"]) for row in log if row["channel"] == "email"), "")

    async def third_held() -> bool:
        statuses = [await company_email_status(m) for m in meetings]
        return sorted(statuses) == ["held", "sent", "sent"]

    await eventually(third_held)
    assert len(mails_to(smtp, address)) == 2
    clock.now = NOON + timedelta(minutes=61)

    async def all_sent() -> bool:
        return len(mails_to(smtp, address)) == 3

    await eventually(all_sent)
    assert len({m["Message-ID"] for m in mails_to(smtp, address)}) == 3


async def test_an_email_accepted_before_a_crash_is_recorded_as_sent_and_not_sent_again(
    notify: RunningService, stack: StackInfo, smtp: SmtpSink
) -> None:
    """The journal entry is what a process killed after the server's acceptance leaves."""
    meeting = details()
    event = confirmed(meeting)
    petra, aylin = (a.contact for a in meeting.attendees)
    journalled = delivery_id(event.id, "email", str(petra.email))
    async with notify.runtime.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO accepted_emails (delivery_id, message_id) VALUES ($1, '<before@crash>')",
            journalled,
        )
    async with nats_client(stack.nats_url) as client:
        await publish(client, event)

    async def both_recorded() -> bool:
        async with notify.client("t") as staff:
            log = (
                await staff.get("/api/notify/deliveries", params={"meeting_id": meeting.meeting_id})
            ).json()
        emails = {row["contact_id"]: row for row in log if row["channel"] == "email"}
        return len(emails) == 2 and all(row["status"] == "sent" for row in emails.values())

    await eventually(both_recorded)
    async with notify.runtime.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT message_id, attempts FROM deliveries WHERE delivery_id = $1", journalled
        )
        left = await conn.fetchval("SELECT count(*) FROM accepted_emails")
    assert row["message_id"] == "<before@crash>"
    assert left == 0
    assert mails_to(smtp, str(petra.email)) == []
    assert len(mails_to(smtp, str(aylin.email))) == 1

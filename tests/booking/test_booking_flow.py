"""Booking against the real PostgreSQL and NATS: confirmation, no double booking, lifecycle."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from icalendar import Calendar

from services.booking import places_repository, repository, service
from services.booking.app import build
from services.booking.domain.calendar import BERLIN, Room, Venue
from services.booking.settings import BookingSettings
from shared.db import create_pool, transaction
from shared.events.base import Envelope, wrap
from shared.events.booking import (
    MeetingCancelled,
    MeetingConfirmed,
    MeetingDetails,
    MeetingRescheduled,
)
from shared.events.common import Contact, Party, PartyKind, ServiceType
from shared.events.matching import MatchAccepted, NeedSummary
from shared.messaging import PermanentError
from shared.migrations import migrate, migrations_for
from tests.support.calendar_checks import check_calendar_object
from tests.support.harness import (
    RunningService,
    ServiceProcess,
    eventually,
    in_process,
    nats_client,
    publish,
)
from tests.support.streams import read_all
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
TOKEN = "booking-staff"
MIGRATIONS = build().migrations


def match_accepted(provider_id: str = "p-chat", company_id: str | None = None) -> MatchAccepted:
    company_id = company_id or f"co-{uuid.uuid4().hex[:8]}"
    return MatchAccepted(
        match_id=f"match-{uuid.uuid4().hex[:10]}",
        proposal_id=f"prop-{uuid.uuid4().hex[:10]}",
        run_id="run-1",
        need=NeedSummary(
            need_id=f"need-{company_id}",
            title="Chat-Kanal für Stammkunden",
            description="Einfacher Chat statt Onlineshop",
            categories=("market.chat",),
            service_type=ServiceType.FIRST_ADVICE,
        ),
        company=Party(
            party_id=company_id,
            kind=PartyKind.COMPANY,
            name="Baustoffe Westfalen",
            contacts=(
                Contact(
                    contact_id=f"{company_id}-1",
                    name="Petra Schulte",
                    email="petra@example.org",
                    phone="+4923112345",
                    sms_consent=True,
                ),
            ),
        ),
        provider=Party(
            party_id=provider_id,
            kind=PartyKind.PROVIDER,
            name="ChatWerk Ruhr",
            contacts=(
                Contact(
                    contact_id=f"{provider_id}-1",
                    name="Aylin Demir",
                    email="aylin@example.org",
                    locale="en",
                ),
            ),
        ),
        accepted_by="staff",
    )


def settings_for(stack: StackInfo, schema: str) -> BookingSettings:
    return BookingSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        staff_token=TOKEN,
        static_token_enabled=True,
        db_schema=schema,
        rsvp_secret="test-secret",  # type: ignore[arg-type]
        public_base_url="http://booking.test",
        reminder_poll_seconds=0.2,
    )


@pytest.fixture
async def booking(stack: StackInfo) -> AsyncIterator[RunningService]:
    async with in_process(build(settings_for(stack, f"booking_{uuid.uuid4().hex[:8]}"))) as running:
        yield running


async def confirmed_for(stack: StackInfo, match_id: str) -> list[MeetingConfirmed]:
    async with nats_client(stack.nats_url) as client:
        messages = await read_all(client, "BOOKING", "booking.meeting.confirmed", idle=0.2)
    events = [Envelope[MeetingConfirmed].model_validate_json(m.data).data for m in messages]
    return [e for e in events if e.meeting.match_id == match_id]


async def book_one(
    stack: StackInfo, provider_id: str = "p-chat", company_id: str | None = None
) -> MeetingConfirmed:
    """Publish one MatchAccepted and wait for the meeting booking confirms for it."""
    event = wrap(match_accepted(provider_id, company_id), source="matching")
    async with nats_client(stack.nats_url) as client:
        await publish(client, event)

    async def confirmed() -> bool:
        return len(await confirmed_for(stack, event.data.match_id)) == 1

    await eventually(confirmed)
    [meeting] = await confirmed_for(stack, event.data.match_id)
    return meeting


async def test_an_accepted_match_becomes_one_confirmed_meeting_with_invites(
    booking: RunningService, stack: StackInfo
) -> None:
    event = wrap(match_accepted(), source="matching")
    async with nats_client(stack.nats_url) as client:
        await publish(client, event)
        await client.jetstream().publish(
            event.subject, event.to_bytes(), headers={"Nats-Msg-Id": f"{event.id}-again"}
        )

    async def confirmed() -> bool:
        return len(await confirmed_for(stack, event.data.match_id)) >= 1

    await eventually(confirmed)
    await asyncio.sleep(0.5)
    [meeting] = await confirmed_for(stack, event.data.match_id)
    assert meeting.calendar.method == "REQUEST"
    assert meeting.calendar.sequence == 0
    assert {i.contact_id for i in meeting.calendar.invitations} == {
        a.contact.contact_id for a in meeting.meeting.attendees
    }
    local = meeting.meeting.start.astimezone(BERLIN)
    assert 9 <= local.hour < 17
    assert meeting.meeting.place.room_name in {"Werkraum 1", "Werkraum 2"}
    english = next(i for i in meeting.calendar.invitations if i.contact_id.startswith("p-chat"))
    assert "First meeting" in english.ics.replace("\r\n ", "")


async def test_two_hundred_concurrent_bookings_of_one_slot_let_exactly_one_win(
    stack: StackInfo,
) -> None:
    schema = f"booking_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(stack.database_url)
    await migrate(conn, schema, migrations_for(MIGRATIONS))
    await conn.close()
    settings = settings_for(stack, schema)
    pool = await create_pool(stack.database_url, schema, min_size=10, max_size=40)
    venue = Venue("werkbank", "Werkbank", "Dortmund", rooms=(Room("r1", "Werkraum 1"),))
    start = datetime(2027, 2, 2, 10, tzinfo=BERLIN)
    kind = service.meeting_type(settings)
    now = datetime(2027, 1, 1, tzinfo=UTC)

    async def attempt(index: int) -> bool:
        match = match_accepted("p-same", company_id=f"co-{index}")
        slot = start + timedelta(minutes=(index % 3) * 15)  # overlapping, not identical
        async with transaction(pool) as tx:
            booked = await service._try_allocate(
                tx, match, venue, venue.rooms[0], slot, kind, settings, b"k", now
            )
        return booked is not None

    try:
        results = await asyncio.gather(*(attempt(i) for i in range(200)))
        async with pool.acquire() as check:
            overlaps = await repository.overlapping_live_allocations(check)
    finally:
        await pool.close()
    assert sum(results) == 1
    assert overlaps == 0


async def test_a_group_books_each_match_once_and_an_unbookable_match_fails_alone(
    stack: StackInfo,
) -> None:
    schema = f"booking_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(stack.database_url)
    await migrate(conn, schema, migrations_for(MIGRATIONS))
    await conn.execute(f"SET search_path TO {schema}")
    settings = settings_for(stack, schema)
    await places_repository.put_availability(conn, "provider", "p-never", {"weekly": {}})
    first, second = (wrap(match_accepted("p-group"), source="matching") for _ in range(2))
    unbookable = wrap(match_accepted("p-never"), source="matching")
    same_match = wrap(second.data, source="matching")  # another event for the second match
    now = datetime.now(UTC)
    try:
        async with conn.transaction():
            outcomes = await service.book_group(
                conn, "booking-test", [first, first, second, unbookable, same_match],
                settings, b"k", now,
            )  # fmt: skip
        async with conn.transaction():
            again = await service.book_group(conn, "booking-test", [first], settings, b"k", now)
        meetings = await conn.fetch("SELECT match_id, starts_at, ends_at FROM meetings")
        overlaps = await repository.overlapping_live_allocations(conn)
        queued = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE subject = 'booking.meeting.confirmed'"
        )
        claimed = {row["event_id"] for row in await conn.fetch("SELECT event_id FROM inbox")}
    finally:
        await conn.close()

    booked_first, repeat, booked_second, refused, not_now = outcomes
    assert isinstance(booked_first, MeetingDetails)
    assert isinstance(booked_second, MeetingDetails)
    assert repeat is None
    assert isinstance(refused, PermanentError)
    assert "no free slot" in str(refused)
    assert isinstance(not_now, RuntimeError)
    assert again == [None]
    assert sorted(m["match_id"] for m in meetings) == sorted(
        [first.data.match_id, second.data.match_id]
    )
    assert booked_first.end <= booked_second.start or booked_second.end <= booked_first.start
    assert overlaps == 0
    assert queued == 2
    assert claimed == {first.id, second.id}


async def test_two_booking_processes_never_double_book_one_provider(stack: StackInfo) -> None:
    schema = f"booking_{uuid.uuid4().hex[:8]}"
    env = {
        "BOOKING_NATS_URL": stack.nats_url,
        "BOOKING_DATABASE_URL": stack.database_url,
        "BOOKING_DB_SCHEMA": schema,
        "BOOKING_RSVP_SECRET": "s",
        "BOOKING_PUBLIC_BASE_URL": "http://booking.test",
        "BOOKING_STAFF_TOKEN": TOKEN,
        "BOOKING_STATIC_TOKEN_ENABLED": "true",
    }
    processes = [ServiceProcess("services.booking", env, "BOOKING_HTTP_PORT") for _ in range(2)]
    events = [wrap(match_accepted("p-busy"), source="matching") for _ in range(40)]
    try:  # a process that is slow to start must not outlive the test (it would take events)
        for process in processes:
            await process.start()
        async with nats_client(stack.nats_url) as client:
            await asyncio.gather(*(publish(client, event) for event in events))
        conn = await asyncpg.connect(stack.database_url)
        try:

            async def all_booked() -> bool:
                count: int = await conn.fetchval(f"SELECT count(*) FROM {schema}.meetings")
                return count == len(events)

            await eventually(all_booked, timeout=60)
            await conn.execute(f"SET search_path TO {schema}")
            assert await repository.overlapping_live_allocations(conn) == 0
            spans = await conn.fetch(
                f"SELECT starts_at, ends_at FROM {schema}.meetings ORDER BY starts_at"
            )
        finally:
            await conn.close()
    finally:
        for process in processes:
            process.stop()
    for earlier, later in itertools.pairwise(spans):
        assert earlier["ends_at"] <= later["starts_at"]


async def test_reschedule_and_cancel_keep_the_uid_raise_the_sequence_and_refuse_holidays(
    booking: RunningService, stack: StackInfo
) -> None:
    meeting = await book_one(stack)
    meeting_id = meeting.meeting.meeting_id
    async with booking.client(TOKEN) as staff:
        holiday = await staff.post(
            f"/api/booking/meetings/{meeting_id}/reschedule",
            json={"start": "2027-12-25T10:00:00+01:00"},
        )
        assert holiday.status_code == 422
        assert "holiday" in holiday.text
        past = await staff.post(
            f"/api/booking/meetings/{meeting_id}/reschedule",
            json={"start": "2020-01-07T10:00:00+01:00"},
        )
        assert past.status_code == 422
        moved = await staff.post(
            f"/api/booking/meetings/{meeting_id}/reschedule",
            json={"start": "2027-03-02T11:00:00+01:00"},
        )
        assert moved.status_code == 200, moved.text
        cancelled = await staff.post(f"/api/booking/meetings/{meeting_id}/cancel", json={})
        assert cancelled.status_code == 200
    async with nats_client(stack.nats_url) as client:

        async def lifecycle() -> bool:
            rescheduled = await read_all(client, "BOOKING", "booking.meeting.rescheduled", idle=0.2)
            cancels = await read_all(client, "BOOKING", "booking.meeting.cancelled", idle=0.2)
            return any(meeting_id.encode() in m.data for m in rescheduled) and any(
                meeting_id.encode() in m.data for m in cancels
            )

        await eventually(lifecycle)
        rescheduled = [
            Envelope[MeetingRescheduled].model_validate_json(m.data).data
            for m in await read_all(client, "BOOKING", "booking.meeting.rescheduled")
            if meeting_id.encode() in m.data
        ]
        cancels = [
            Envelope[MeetingCancelled].model_validate_json(m.data).data
            for m in await read_all(client, "BOOKING", "booking.meeting.cancelled")
            if meeting_id.encode() in m.data
        ]
    assert rescheduled[0].calendar.sequence == 1
    assert rescheduled[0].meeting.start.astimezone(BERLIN).hour == 11
    assert cancels[0].calendar.sequence == 2
    for calendar in (meeting.calendar, rescheduled[0].calendar, cancels[0].calendar):
        for invitation in calendar.invitations:
            check_calendar_object(invitation.ics)
    cancel_ics = Calendar.from_ical(cancels[0].calendar.invitations[0].ics)
    assert cancel_ics["METHOD"] == "CANCEL"
    assert cancel_ics.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
    assert cancel_ics.walk("VEVENT")[0]["UID"] == meeting.calendar.uid


async def test_a_forged_rsvp_link_gets_403_and_a_real_one_is_recorded(
    booking: RunningService, stack: StackInfo
) -> None:
    meeting = await book_one(stack)
    link = meeting.meeting.attendees[0].rsvp_url
    assert link is not None
    path = httpx.URL(link).path
    async with booking.client() as anyone:
        forged = await anyone.post(path[:-3] + "abc", data={"response": "declined"})
        assert forged.status_code == 403
        assert (await anyone.get(path[:-3] + "abc")).status_code == 403
        opened = await anyone.get(path)  # as a mail scanner would: shows, records nothing
        assert opened.status_code == 200
        assert "Chat-Kanal für Stammkunden" in opened.text
        assert 'name="response" value="declined"' in opened.text
        assert "Ich nehme teil" in opened.text, "the company's contact reads German"
        assert await responses_of(booking, meeting.meeting.meeting_id) == []
        real = await anyone.post(path, data={"response": "declined", "comment": "Krank"})
        assert real.status_code == 200
        assert "Absage" in real.text
        assert await responses_of(booking, meeting.meeting.meeting_id) == ["declined"]
        as_json = await anyone.post(
            path, data={"response": "accepted"}, headers={"Accept": "application/json"}
        )
        # the decline moved the meeting: the first invitation's link is now outdated
        assert as_json.status_code == 409
        assert "earlier version" in as_json.json()["detail"]


async def responses_of(booking: RunningService, meeting_id: str) -> list[str]:
    async with booking.runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT response FROM responses WHERE meeting_id = $1", meeting_id)
    return [row["response"] for row in rows]


async def test_two_reminder_schedulers_publish_each_reminder_exactly_once(stack: StackInfo) -> None:
    schema = f"booking_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(stack.database_url)
    await migrate(conn, schema, migrations_for(MIGRATIONS))
    await conn.close()
    pool = await create_pool(stack.database_url, schema, min_size=2, max_size=6)
    settings = settings_for(stack, schema)
    venue = Venue(
        "werkbank", "Werkbank", "Dortmund", rooms=(Room("r1", "Werkraum 1"), Room("r2", "R2"))
    )
    kind = service.meeting_type(settings)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    try:
        for index in range(30):
            async with transaction(pool) as tx:
                start = datetime(2027, 2, 1, 9, tzinfo=BERLIN) + timedelta(days=index)
                await service._try_allocate(
                    tx,
                    match_accepted(f"p-{index}"),
                    venue,
                    venue.rooms[0],
                    start,
                    kind,
                    settings,
                    b"k",
                    now,
                )

        async def scheduler() -> int:
            total = 0
            for _ in range(10):
                async with transaction(pool) as tx:
                    total += await service.publish_due_reminders(
                        tx, datetime(2028, 1, 1, tzinfo=UTC), 7
                    )
            return total

        handled = await asyncio.gather(scheduler(), scheduler())
        async with pool.acquire() as check:
            published = await check.fetchval(
                "SELECT count(*) FROM outbox WHERE subject = 'booking.meeting.reminder_due'"
            )
            unsent = await check.fetchval("SELECT count(*) FROM reminders WHERE sent_at IS NULL")
    finally:
        await pool.close()
    assert sum(handled) == 60
    assert published == 60
    assert unsent == 0

"""Availability, venues and rooms through the staff API, the 422 reasons, declines without held
options, and a bad event: against the real PostgreSQL and NATS."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import pytest

from services.booking import places_repository, responses, service
from services.booking.app import build
from services.booking.domain import rsvp
from services.booking.domain.calendar import BERLIN, Venue
from services.booking.settings import BookingSettings
from shared.db import Pool, create_pool, transaction
from shared.events.base import Envelope, wrap
from shared.events.booking import AttendeeResponse, MeetingDeclined, MeetingDetails
from shared.events.deadletter import EventDeadLettered
from shared.events.streams import BOOKING_ON_MATCHING
from shared.migrations import migrate, migrations_for
from tests.booking.test_booking_flow import (
    MIGRATIONS,
    TOKEN,
    book_one,
    match_accepted,
    settings_for,
)
from tests.booking.test_followup import book
from tests.support.harness import RunningService, eventually, in_process, nats_client, publish
from tests.support.streams import read_all
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
NOW = datetime(2027, 1, 4, 7, tzinfo=UTC)  # a Monday; with 24 h notice slots start on Tuesday


@pytest.fixture(scope="module")
async def booking(stack: StackInfo) -> AsyncIterator[RunningService]:
    async with in_process(build(settings_for(stack, f"booking_{uuid.uuid4().hex[:8]}"))) as svc:
        yield svc


@pytest.fixture
async def pool(stack: StackInfo) -> AsyncIterator[Pool]:
    schema = f"booking_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(stack.database_url)
    await migrate(conn, schema, migrations_for(MIGRATIONS))
    await conn.close()
    created = await create_pool(stack.database_url, schema, min_size=1, max_size=2)
    try:
        yield created
    finally:
        await created.close()


def eligible_thursdays(now: datetime) -> list[date]:
    """Thursdays (no holiday) whose 15:00 lies beyond the 24 h notice, in order."""
    venue, day = Venue("v", "v", "a"), now.astimezone(BERLIN).date()
    found: list[date] = []
    while len(found) < 2:
        at_three = datetime.combine(day, time(15), tzinfo=BERLIN)
        if day.weekday() == 3 and not venue.is_holiday(day) and at_three >= now + timedelta(days=1):
            found.append(day)
        day += timedelta(days=1)
    return found


async def test_booking_honours_provider_hours_days_off_and_company_windows_set_by_staff(
    booking: RunningService, stack: StackInfo
) -> None:
    provider, company = f"p-{uuid.uuid4().hex[:6]}", f"co-{uuid.uuid4().hex[:6]}"
    first, second = eligible_thursdays(datetime.now(UTC))
    async with booking.client(TOKEN) as staff:
        hours = {"weekly": {"3": [{"start": "14:00", "end": "16:00"}]}, "dates_off": [str(first)]}
        put = await staff.put(f"/api/booking/providers/{provider}/availability", json=hours)
        assert put.status_code == 200, put.text
        windows = {"weekly": {"3": [{"start": "15:00", "end": "17:00"}]}}
        assert (
            await staff.put(f"/api/booking/companies/{company}/availability", json=windows)
        ).status_code == 200
        stored = (await staff.get(f"/api/booking/providers/{provider}/availability")).json()
        assert stored["weekly"] == {"3": [["14:00", "16:00"]]}
        backwards = {"weekly": {"1": [{"start": "12:00", "end": "09:00"}]}}
        bad = await staff.put(f"/api/booking/providers/{provider}/availability", json=backwards)
        assert bad.status_code == 422
    meeting = await book_one(stack, provider, company)
    assert meeting.meeting.start.astimezone(BERLIN) == datetime.combine(
        second, time(15), tzinfo=BERLIN
    )
    async with booking.client(TOKEN) as staff:
        path = f"/api/booking/companies/{company}/availability"
        assert (await staff.delete(path)).status_code == 204
        assert (await staff.get(path)).status_code == 404
        assert (await staff.delete(path)).status_code == 404


async def test_staff_get_422_naming_the_field_and_the_reason_for_an_impossible_time(
    booking: RunningService, stack: StackInfo
) -> None:
    meeting = await book(stack)
    provider = meeting.meeting.attendees[1].party_id
    url = f"/api/booking/meetings/{meeting.meeting.meeting_id}/reschedule"
    reasons = {
        "2020-01-07T10:00:00+01:00": "in the past",
        "2027-12-25T10:00:00+01:00": "public holiday (Erster Weihnachtstag)",
        "2027-03-02T18:30:00+01:00": "outside opening hours (09:00–17:00)",
        "2027-03-07T10:00:00+01:00": "closed on Sundays",
        "2027-03-03T10:00:00+01:00": "the provider is not available: 2027-03-03 is a day off",
    }
    async with booking.client(TOKEN) as staff:
        hours = {"weekly": {str(d): [{"start": "09:00", "end": "17:00"}] for d in range(5)}}
        await staff.put(
            f"/api/booking/providers/{provider}/availability",
            json={**hours, "dates_off": ["2027-03-03"]},
        )
        for start, reason in reasons.items():
            refused = await staff.post(url, json={"start": start})
            assert refused.status_code == 422, start
            [error] = refused.json()["errors"]
            assert error["field"] == "start"
            assert reason in error["message"], error
        moved = await staff.post(url, json={"start": "2027-03-04T10:00:00+01:00"})
        assert moved.status_code == 200, moved.text


async def test_venues_and_rooms_are_created_changed_and_deleted_by_staff(
    booking: RunningService, stack: StackInfo
) -> None:
    async with booking.client(TOKEN) as staff:
        venue = {
            "name": "Partnerraum Hörde",
            "address": "Phoenixplatz 1, 44263 Dortmund",
            "rooms": [{"room_id": "h-1", "name": "Raum 1"}],
        }
        assert (await staff.put("/api/booking/venues/hoerde", json=venue)).status_code == 200
        room = {"name": "Raum 2", "capacity": 12, "equipment": ["Beamer", "Whiteboard"]}
        assert (
            await staff.put("/api/booking/venues/hoerde/rooms/h-2", json=room)
        ).status_code == 200
        assert (await staff.delete("/api/booking/venues/hoerde/rooms/h-1")).status_code == 204
        assert (await staff.delete("/api/booking/venues/hoerde/rooms/h-1")).status_code == 404
        stored = (await staff.get("/api/booking/venues/hoerde")).json()
        assert stored["rooms"] == [{"room_id": "h-2", **room}]
        no_link = {"name": "Online", "kind": "virtual"}
        assert (await staff.put("/api/booking/venues/online", json=no_link)).status_code == 422
        online = {**no_link, "video_url": "https://meet.example.org/werkbank"}
        assert (await staff.put("/api/booking/venues/online", json=online)).status_code == 200
        virtual_room = await staff.put("/api/booking/venues/online/rooms/x", json=room)
        assert virtual_room.status_code == 422
        meeting = await book(stack)  # "hoerde" is the first venue now
        assert meeting.meeting.place.room_name == "Raum 2"
        busy = await staff.delete("/api/booking/venues/hoerde")
        assert busy.status_code == 409
        cancel_url = f"/api/booking/meetings/{meeting.meeting.meeting_id}/cancel"
        await staff.post(cancel_url, json={})
        for venue_id in ("hoerde", "online"):
            assert (await staff.delete(f"/api/booking/venues/{venue_id}")).status_code == 204
            assert (await staff.get(f"/api/booking/venues/{venue_id}")).status_code == 404
        assert (await staff.delete("/api/booking/venues/hoerde")).status_code == 404


async def test_an_invalid_match_accepted_is_dead_lettered_with_its_reason_and_booking_goes_on(
    booking: RunningService, stack: StackInfo
) -> None:
    bad = wrap(match_accepted(), source="matching")
    body = json.loads(bad.to_bytes())
    del body["data"]["company"]
    async with nats_client(stack.nats_url) as client:
        await publish(client, bad, body=json.dumps(body).encode())
    await book(stack)  # the service keeps running

    async def letters() -> list[EventDeadLettered]:
        async with nats_client(stack.nats_url) as client:
            messages = await read_all(
                client, "DEADLETTER", BOOKING_ON_MATCHING.dead_letter_subject, idle=0.2
            )
        found = [Envelope[EventDeadLettered].model_validate_json(m.data).data for m in messages]
        return [letter for letter in found if letter.original_msg_id == str(bad.id)]

    async def dead_lettered() -> bool:
        return len(await letters()) == 1

    await eventually(dead_lettered)
    [letter] = await letters()
    assert "data.company" in letter.reason
    assert letter.original_subject == "matching.match.accepted"
    assert letter.deliveries == 1


async def decline_first_attendee(
    pool: Pool, meeting: MeetingDetails, sequence: int = 0
) -> MeetingDeclined:
    settings = BookingSettings(options=1)
    claim = rsvp.RsvpClaim(
        meeting.meeting_id, meeting.attendees[0].contact.contact_id, NOW, sequence
    )
    async with transaction(pool) as conn:
        answered = await responses.respond(
            conn, claim, AttendeeResponse.DECLINED, "", settings, b"k", NOW
        )
    declined = answered.declined
    assert declined is not None
    return declined


async def book_directly(pool: Pool, provider: str) -> MeetingDetails:
    async with transaction(pool) as conn:
        details = await service.book_match(
            conn,
            wrap(match_accepted(provider), source="matching"),
            BookingSettings(),
            b"k",
            NOW,
        )
    assert details is not None
    return details


async def test_without_held_options_a_decline_offers_the_earliest_slot_nobody_declined(
    pool: Pool,
) -> None:
    meeting = await book_directly(pool, "p-fresh")
    assert meeting.start.astimezone(BERLIN) == datetime(2027, 1, 5, 9, tzinfo=BERLIN)
    declined = await decline_first_attendee(pool, meeting)
    assert declined.next_start == datetime(2027, 1, 5, 10, tzinfo=BERLIN)
    async with pool.acquire() as conn:
        subjects = [
            r["subject"] for r in await conn.fetch("SELECT subject FROM outbox ORDER BY seq")
        ]
        live = await conn.fetch("SELECT lower(span) AS s FROM allocations WHERE live")
    assert subjects[-3:] == [
        "booking.meeting.attendee_responded",
        "booking.meeting.declined",
        "booking.meeting.rescheduled",
    ]
    assert {row["s"] for row in live} == {datetime(2027, 1, 5, 9, 45, tzinfo=BERLIN)}


async def test_when_no_slot_is_left_a_decline_cancels_and_reopens_the_match(pool: Pool) -> None:
    only = {"weekly": {}, "extra": [{"date": "2027-01-05", "start": "09:00", "end": "10:00"}]}
    async with transaction(pool) as conn:
        await places_repository.put_availability(conn, "provider", "p-once", only)
    meeting = await book_directly(pool, "p-once")
    declined = await decline_first_attendee(pool, meeting)
    assert declined.match_reopened is True
    assert declined.next_start is None
    async with pool.acquire() as conn:
        status = await conn.fetchval("SELECT status FROM meetings")
        cancel = await conn.fetchval(
            "SELECT body FROM outbox WHERE subject = 'booking.meeting.cancelled'"
        )
    assert status == "cancelled"
    assert b"back to matching" in cancel

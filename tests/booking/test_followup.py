"""Top-3 options, declines, attendance and feedback against the real PostgreSQL and NATS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from pydantic import BaseModel

from services.booking import repository
from services.booking.app import build
from services.booking.domain import rsvp
from shared.events.base import Envelope
from shared.events.booking import (
    AttendanceRecorded,
    FeedbackGiven,
    MeetingCancelled,
    MeetingConfirmed,
    MeetingDeclined,
    MeetingRescheduled,
)
from tests.booking.test_booking_flow import (
    TOKEN,
    book_one,
    settings_for,
)
from tests.support.harness import RunningService, eventually, in_process, nats_client
from tests.support.streams import read_all
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
E = TypeVar("E", bound=BaseModel)


@pytest.fixture(scope="module")
async def booking(stack: StackInfo) -> AsyncIterator[RunningService]:
    """One service for the module: three options per match, cancelled at the second decline."""
    schema = f"booking_{uuid.uuid4().hex[:8]}"
    settings = settings_for(stack, schema).model_copy(update={"options": 3, "max_declines": 2})
    async with in_process(build(settings)) as running:
        yield running


@pytest.fixture
async def db(booking: RunningService, stack: StackInfo) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.database_url)
    await conn.execute(f"SET search_path TO {booking.runtime.settings.schema_name}")
    try:
        yield conn
    finally:
        await conn.close()


async def events_of(stack: StackInfo, model: type[E], meeting_id: str) -> list[E]:
    subject = model.model_fields["type"].default
    async with nats_client(stack.nats_url) as client:
        messages = await read_all(client, "BOOKING", subject, idle=0.2)
    envelope: type[Envelope[E]] = Envelope[model]  # type: ignore[valid-type]
    # Other tests put deliberately broken events on these subjects: read only this meeting's.
    ours = [m for m in messages if meeting_id.encode() in m.data]
    return [envelope.model_validate_json(m.data).data for m in ours]


async def wait_for(stack: StackInfo, model: type[E], meeting_id: str, count: int = 1) -> list[E]:
    async def arrived() -> bool:
        return len(await events_of(stack, model, meeting_id)) >= count

    await eventually(arrived)
    return await events_of(stack, model, meeting_id)


async def book(stack: StackInfo, provider_id: str | None = None) -> MeetingConfirmed:
    return await book_one(stack, provider_id or f"p-{uuid.uuid4().hex[:6]}")


def rsvp_path(meeting: MeetingConfirmed | MeetingRescheduled, index: int = 0) -> str:
    url = meeting.meeting.attendees[index].rsvp_url
    assert url is not None
    return httpx.URL(url).path


async def test_three_options_are_held_on_three_days_and_the_earliest_is_confirmed(
    booking: RunningService, stack: StackInfo, db: asyncpg.Connection
) -> None:
    first = await book(stack, "p-three")
    held = await db.fetch(
        "SELECT option, starts_at FROM held_options WHERE meeting_id = $1 ORDER BY option",
        first.meeting.meeting_id,
    )
    starts = [first.meeting.start, *(row["starts_at"] for row in held)]
    assert [row["option"] for row in held] == [1, 2]
    assert starts == sorted(starts)
    assert len({start.date() for start in starts}) == 3
    live = await db.fetchval(
        "SELECT count(*) FROM allocations WHERE meeting_id = $1 AND live", first.meeting.meeting_id
    )
    assert live == 9  # provider, company and room for each of the three slots
    second = await book(stack, "p-three")  # the held options block the provider too
    assert second.meeting.start not in starts
    assert await repository.overlapping_live_allocations(db) == 0


async def test_a_decline_offers_the_next_held_option_and_the_last_decline_reopens_the_match(
    booking: RunningService, stack: StackInfo, db: asyncpg.Connection
) -> None:
    meeting = await book(stack)
    meeting_id = meeting.meeting.meeting_id
    [option] = await db.fetch(
        "SELECT starts_at FROM held_options WHERE meeting_id = $1 AND option = 1", meeting_id
    )
    async with booking.client() as attendee:
        attendee.headers["Accept"] = "application/json"
        declined = await attendee.post(rsvp_path(meeting), data={"response": "declined"})
        assert declined.status_code == 200, declined.text
        assert declined.json()["next_start"] == option["starts_at"].isoformat()
        [moved] = await wait_for(stack, MeetingRescheduled, meeting_id)
        assert moved.meeting.start == option["starts_at"]
        assert moved.calendar.sequence == 1
        assert moved.calendar.uid == meeting.calendar.uid
        stale = await attendee.post(rsvp_path(meeting, 1), data={"response": "declined"})
        assert stale.status_code == 409  # a link of the first invitation: outdated, nothing moves
        assert moved.meeting.start.isoformat() in stale.json()["detail"]
        again = await attendee.post(
            rsvp_path(moved, 1), data={"response": "new_time_requested", "comment": "Urlaub"}
        )
        assert again.json()["next_start"] == ""
    [cancelled] = await wait_for(stack, MeetingCancelled, meeting_id)
    assert cancelled.calendar.sequence == 2
    first, last = await wait_for(stack, MeetingDeclined, meeting_id, 2)
    assert (first.next_start, first.match_reopened) == (option["starts_at"], False)
    assert (last.next_start, last.match_reopened, last.declines) == (None, True, 2)
    assert last.meeting.match_id == meeting.meeting.match_id
    assert last.meeting.need_id == meeting.meeting.need_id
    assert last.comment == "Urlaub"
    async with booking.client(TOKEN) as staff:
        attention = (await staff.get("/api/booking/meetings/attention")).json()
    [listed] = [m for m in attention if m["meeting_id"] == meeting_id]
    assert listed["status"] == "cancelled"
    assert [h["outcome"] for h in listed["history"]] == ["rescheduled", "cancelled"]
    assert (
        await db.fetchval(
            "SELECT count(*) FROM allocations WHERE meeting_id = $1 AND live", meeting_id
        )
        == 0
    )


async def held_meeting(booking: RunningService, db: asyncpg.Connection, stack: StackInfo) -> Any:
    meeting = await book(stack)
    meeting_id = meeting.meeting.meeting_id
    async with booking.client(TOKEN) as staff:
        early = await staff.post(
            f"/api/booking/meetings/{meeting_id}/attendance", json={"status": "held"}
        )
        assert early.status_code == 409
        await db.execute(
            "UPDATE meetings SET starts_at = now() - interval '2 hours' WHERE meeting_id = $1",
            meeting_id,
        )
        marked = await staff.post(
            f"/api/booking/meetings/{meeting_id}/attendance", json={"status": "held"}
        )
        assert marked.status_code == 200, marked.text
    return meeting, marked.json()


async def test_marking_a_meeting_held_publishes_attendance_with_feedback_links(
    booking: RunningService, stack: StackInfo, db: asyncpg.Connection
) -> None:
    meeting, marked = await held_meeting(booking, db, stack)
    meeting_id = meeting.meeting.meeting_id
    [recorded] = await wait_for(stack, AttendanceRecorded, meeting_id)
    assert recorded.status == "held"
    assert recorded.match_id == meeting.meeting.match_id
    assert {link.contact_id for link in recorded.feedback_links} == {
        a.contact.contact_id for a in meeting.meeting.attendees
    }
    assert marked["feedback_links"][0]["url"].startswith(booking.runtime.settings.public_base_url)  # type: ignore[attr-defined]
    assert (
        await db.fetchval("SELECT count(*) FROM held_options WHERE meeting_id = $1", meeting_id)
        == 0
    )


async def test_feedback_through_the_signed_link_reaches_matching_as_feedback_given(
    booking: RunningService, stack: StackInfo, db: asyncpg.Connection
) -> None:
    meeting, marked = await held_meeting(booking, db, stack)
    meeting_id = meeting.meeting.meeting_id
    company_link = next(
        link["url"] for link in marked["feedback_links"] if link["contact_id"].startswith("co-")
    )
    path = httpx.URL(company_link).path
    async with booking.client() as attendee:
        form = await attendee.get(path)
        assert form.status_code == 200
        assert "Wie war Ihr Erstgespräch?" in form.text
        assert (
            "How was your first meeting?" in (await attendee.get(path, params={"lang": "en"})).text
        )
        sent = await attendee.post(path, data={"rating": "3", "outcome": "in_progress"})
        assert sent.status_code == 200
        assert "Danke" in sent.text
        later = await attendee.post(path, data={"rating": "1", "outcome": "project_started"})
        assert later.status_code == 200
        out_of_range = await attendee.post(path, data={"rating": "7"})
        assert out_of_range.status_code == 422
    first, second = await wait_for(stack, FeedbackGiven, meeting_id, 2)
    assert (first.rating, first.outcome, first.given_by) == (3, "in_progress", "company")
    assert first.provider_id == meeting.meeting.attendees[1].party_id
    assert first.company_id == meeting.meeting.attendees[0].party_id
    assert (second.rating, second.outcome) == (None, "project_started")  # the rating counts once


async def test_a_forged_expired_or_rsvp_token_gets_403_on_the_feedback_link_and_changes_nothing(
    booking: RunningService, stack: StackInfo, db: asyncpg.Connection
) -> None:
    meeting, marked = await held_meeting(booking, db, stack)
    meeting_id = meeting.meeting.meeting_id
    contact_id = meeting.meeting.attendees[0].contact.contact_id
    path = httpx.URL(marked["feedback_links"][0]["url"]).path
    expired = rsvp.issue(
        b"test-secret",
        meeting_id,
        contact_id,
        datetime.now(UTC) - timedelta(minutes=1),
        purpose=rsvp.FEEDBACK,
    )
    async with booking.client() as anyone:
        for bad in (
            path[:-4] + "AAAA",
            f"/feedback/{expired}",
            "/feedback/" + rsvp_path(meeting)[6:],
        ):
            assert (await anyone.get(bad)).status_code == 403
            assert (await anyone.post(bad, data={"rating": "4"})).status_code == 403
    assert await db.fetchval("SELECT count(*) FROM feedback WHERE meeting_id = $1", meeting_id) == 0

"""The slot picker's free times for a booked meeting: the same search that books, against the
real PostgreSQL and NATS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from services.booking.app import build
from services.booking.domain.calendar import BERLIN, Venue
from tests.booking.test_booking_flow import TOKEN, book_one, settings_for
from tests.support.harness import RunningService, in_process
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def booking(stack: StackInfo) -> AsyncIterator[RunningService]:
    async with in_process(build(settings_for(stack, f"booking_{uuid.uuid4().hex[:8]}"))) as svc:
        yield svc


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    return start < other_end and other_start < end


async def test_free_slots_skip_the_providers_day_off_other_meetings_and_closed_days(
    booking: RunningService, stack: StackInfo
) -> None:
    provider = f"p-{uuid.uuid4().hex[:6]}"
    first = (await book_one(stack, provider)).meeting
    other = (await book_one(stack, provider)).meeting
    path = f"/api/booking/meetings/{first.meeting_id}/free-slots"
    async with booking.client(TOKEN) as staff:
        before = (await staff.get(path)).json()
        day_off = datetime.fromisoformat(before[1]["start"]).astimezone(BERLIN).date()
        hours = {"weekly": {str(d): [{"start": "09:00", "end": "17:00"}] for d in range(5)}}
        availability = {**hours, "dates_off": [day_off.isoformat()]}
        put = await staff.put(f"/api/booking/providers/{provider}/availability", json=availability)
        assert put.status_code == 200, put.text
        answer = await staff.get(path, params={"count": 8})
        assert answer.status_code == 200, answer.text
        slots = answer.json()
        assert len(slots) == 8
        starts = [datetime.fromisoformat(s["start"]) for s in slots]
        days = [start.astimezone(BERLIN).date() for start in starts]
        assert len(set(days)) == len(days), "one free time per day"
        assert day_off not in days
        assert all(day.weekday() < 5 and not Venue("v", "v", "a").is_holiday(day) for day in days)
        assert {s["room_id"] for s in slots} == {first.place.room_id}
        padding = timedelta(minutes=15)
        for slot in slots:
            start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
            assert not overlaps(start - padding, end + padding, other.start, other.end), slot
        moved = await staff.post(
            f"/api/booking/meetings/{first.meeting_id}/reschedule",
            json={"start": slots[1]["start"]},
        )
        assert moved.status_code == 200, moved.text


async def test_free_slots_answer_problem_details_for_an_unknown_meeting_or_a_bad_count(
    booking: RunningService,
) -> None:
    async with booking.client(TOKEN) as staff:
        unknown = await staff.get("/api/booking/meetings/no-such-meeting/free-slots")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
        bad = await staff.get("/api/booking/meetings/no-such-meeting/free-slots?count=0")
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in bad.json()["errors"]] == ["count"]

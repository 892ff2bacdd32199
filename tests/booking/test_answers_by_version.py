"""RSVP answers tied to the version (SEQUENCE) of the meeting, and the settings links need."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.booking.app import build
from shared.events.booking import AttendeeResponded, MeetingConfirmed, MeetingDeclined
from tests.booking.test_booking_flow import TOKEN, book_one, settings_for
from tests.booking.test_followup import events_of, rsvp_path
from tests.support.harness import RunningService, in_process
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def booking(stack: StackInfo) -> AsyncIterator[RunningService]:
    schema = f"booking_{uuid.uuid4().hex[:8]}"
    async with in_process(build(settings_for(stack, schema))) as running:
        yield running


async def answers(booking: RunningService, meeting_id: str) -> dict[str, object]:
    async with booking.client(TOKEN) as staff:
        response = await staff.get(f"/api/booking/meetings/{meeting_id}/answers")
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


async def move(booking: RunningService, meeting: MeetingConfirmed) -> str:
    """Staff move the meeting by a week or more (a free weekday); the new start."""
    async with booking.client(TOKEN) as staff:
        for weeks in range(1, 5):
            start = meeting.meeting.start + timedelta(weeks=weeks)
            path = f"/api/booking/meetings/{meeting.meeting.meeting_id}/reschedule"
            moved = await staff.post(path, json={"start": start.isoformat()})
            if moved.status_code == 200:
                new_start: str = moved.json()["start"]
                return new_start
    raise AssertionError("no free time to move the meeting to")


async def test_answers_count_only_for_the_version_they_were_given_for(
    booking: RunningService, stack: StackInfo
) -> None:
    meeting = await book_one(stack, f"p-{uuid.uuid4().hex[:6]}")
    meeting_id = meeting.meeting.meeting_id
    contact_id = meeting.meeting.attendees[0].contact.contact_id
    old_link = rsvp_path(meeting)
    async with booking.client() as attendee:
        attendee.headers["Accept"] = "application/json"
        first = await attendee.post(old_link, data={"response": "accepted"})
        again = await attendee.post(old_link, data={"response": "accepted"})
        assert (first.json()["outcome"], again.json()["outcome"]) == ("recorded", "repeated")
        before_move = await answers(booking, meeting_id)
        current = before_move["current"]
        assert isinstance(current, list)
        assert [(a["contact_id"], a["response"], a["sequence"]) for a in current] == [
            (contact_id, "accepted", 0)
        ]
        new_start = await move(booking, meeting)
        after_move = await answers(booking, meeting_id)
        assert after_move["sequence"] == 1
        assert after_move["current"] == []  # the accept from before the move no longer counts

        page = await attendee.get(old_link, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "früheren Einladung" in page.text
        local = datetime.fromisoformat(new_start).astimezone(ZoneInfo("Europe/Berlin"))
        assert f"{local:%d.%m.%Y}, {local:%H:%M}" in page.text
        current_link = httpx.URL(page.text.split('action="')[1].split('"')[0]).path
        assert current_link != old_link  # the form answers the current version

        stale = await attendee.post(old_link, data={"response": "declined"})
        assert stale.status_code == 409
        assert new_start in stale.json()["detail"]
        stale_page = await attendee.post(
            old_link, data={"response": "declined"}, headers={"Accept": "text/html"}
        )
        assert stale_page.status_code == 409
        assert "früheren Einladung" in stale_page.text
    history = (await answers(booking, meeting_id))["history"]
    assert isinstance(history, list)
    assert [(h["sequence"], h["response"], h["outdated"]) for h in history] == [
        (0, "accepted", False),
        (0, "declined", True),
    ]
    assert (await answers(booking, meeting_id))["current"] == []
    responded = await events_of(stack, AttendeeResponded, meeting_id)
    assert len(responded) == 1  # the repeated accept and the outdated decline publish nothing
    assert responded[0].sequence == 0
    assert await events_of(stack, MeetingDeclined, meeting_id) == []


async def test_a_cancelled_meeting_refuses_answers(
    booking: RunningService, stack: StackInfo
) -> None:
    meeting = await book_one(stack, f"p-{uuid.uuid4().hex[:6]}")
    meeting_id = meeting.meeting.meeting_id
    async with booking.client(TOKEN) as staff:
        cancelled = await staff.post(f"/api/booking/meetings/{meeting_id}/cancel", json={})
        assert cancelled.status_code == 200
    async with booking.client() as attendee:
        attendee.headers["Accept"] = "application/json"
        refused = await attendee.post(rsvp_path(meeting), data={"response": "accepted"})
    assert refused.status_code == 409
    assert "cancelled" in refused.text
    assert (await answers(booking, meeting_id))["history"] == []
    assert await events_of(stack, AttendeeResponded, meeting_id) == []


@pytest.mark.unit
@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({}, ["BOOKING_RSVP_SECRET", "BOOKING_PUBLIC_BASE_URL"]),
        ({"BOOKING_RSVP_SECRET": "s"}, ["BOOKING_PUBLIC_BASE_URL"]),
        ({"BOOKING_PUBLIC_BASE_URL": "https://termine.example"}, ["BOOKING_RSVP_SECRET"]),
    ],
)
def test_booking_refuses_to_start_without_the_settings_its_links_need(
    present: dict[str, str], missing: list[str]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")} | present
    env["BOOKING_NATS_URL"] = "nats://127.0.0.1:1"  # never reached: it stops before
    result = subprocess.run(
        [sys.executable, "-m", "services.booking", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    for name in missing:
        assert name in result.stderr

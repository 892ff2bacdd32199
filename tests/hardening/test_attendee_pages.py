"""Attendee pages: security headers on every answer, answers rate-limited per link and per
address across replicas (in PostgreSQL), and search terms taken literally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.booking import service
from services.booking.app import build
from services.booking.domain import rsvp
from services.booking.settings import BookingSettings
from shared.db import transaction
from shared.events.base import wrap
from shared.events.booking import MeetingDetails
from shared.page_security import PAGE_HEADERS
from tests.booking.test_booking_flow import match_accepted
from tests.hardening.conftest import TOKEN, booking_settings
from tests.support.harness import RunningService, in_process
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


async def book(running: RunningService, title: str = "Kundenchat") -> MeetingDetails:
    match = match_accepted(f"p-{title[:8]}")
    match = match.model_copy(update={"need": match.need.model_copy(update={"title": title})})
    async with transaction(running.runtime.pool) as conn:
        meeting = await service.book_match(
            conn, wrap(match, source="matching"), BookingSettings(), b"k", datetime.now(UTC)
        )
    assert meeting is not None
    return meeting


def link(running: RunningService, meeting: MeetingDetails, purpose: str = rsvp.RSVP) -> str:
    secret = running.runtime.state["rsvp_secret"]
    contact_id = meeting.attendees[0].contact.contact_id
    expires = datetime.now(UTC) + timedelta(days=60)
    return rsvp.issue(secret, meeting.meeting_id, contact_id, expires, purpose=purpose)


async def test_every_attendee_answer_carries_the_security_headers(
    booking: RunningService,
) -> None:
    token = link(booking, await book(booking))
    async with booking.client() as client:
        answers = [
            await client.get(f"/rsvp/{token}"),
            await client.get("/rsvp/forged.link"),
            await client.post(f"/rsvp/{token}", data={"response": "maybe-not"}),
            await client.get(f"/feedback/{token}"),
        ]
    assert [a.status_code for a in answers] == [200, 403, 422, 403]
    for answer in answers:
        for name, value in PAGE_HEADERS.items():
            assert answer.headers[name] == value, (answer.request.url, name)
    assert "frame-ancestors 'none'" in answers[0].headers["content-security-policy"]


async def test_answers_are_limited_per_link_and_per_address_across_replicas(
    stack: StackInfo,
) -> None:
    settings = booking_settings(stack).model_copy(
        update={"answers_per_link_per_hour": 2, "answers_per_address_per_hour": 4}
    )
    async with in_process(build(settings)) as first, in_process(build(settings)) as second:
        token = link(first, await book(first))
        async with first.client() as one, second.client() as other:
            allowed = [
                await one.post(f"/rsvp/{token}", data={"response": "accepted"}),
                await other.post(f"/rsvp/{token}", data={"response": "accepted"}),
            ]
            limited = await one.post(f"/rsvp/{token}", data={"response": "accepted"})
            forged = await other.post("/rsvp/x.y", data={"response": "accepted"})
            by_address = await other.post("/rsvp/x.z", data={"response": "accepted"})
    assert [a.status_code for a in allowed] == [200, 200]
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 3600
    assert limited.headers["content-type"] == "application/problem+json"
    assert forged.status_code == 403, "the fourth answer from this address"
    assert by_address.status_code == 429, "the fifth, whatever the link"


async def test_percent_and_underscore_in_a_search_are_taken_literally(
    booking: RunningService,
) -> None:
    await book(booking, "Umsatz plus 100% mit Chat")
    await book(booking, "Website 1x0 und 100 Seiten")
    async with booking.client(TOKEN) as staff:

        async def titles(term: str) -> list[str]:
            answer = await staff.get("/api/booking/meetings", params={"q": term})
            assert answer.status_code == 200, answer.text
            return [m["details"]["title"] for m in answer.json()]

        assert await titles("100%") == ["Umsatz plus 100% mit Chat"]
        assert await titles("1_0 Seiten") == []
        assert await titles("%") == ["Umsatz plus 100% mit Chat"]

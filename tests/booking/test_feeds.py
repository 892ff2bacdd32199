"""Secret, revocable calendar feeds of providers, venues and rooms."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from services.booking.app import build
from tests.booking.test_booking_flow import TOKEN, book_one, settings_for
from tests.support.calendar_checks import check_calendar_object
from tests.support.harness import RunningService, in_process
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def booking(stack: StackInfo) -> AsyncIterator[RunningService]:
    async with in_process(build(settings_for(stack, f"booking_{uuid.uuid4().hex[:8]}"))) as running:
        yield running


async def test_feeds_show_the_subjects_meetings_without_contact_data_and_can_be_revoked(
    booking: RunningService, stack: StackInfo
) -> None:
    provider = f"p-{uuid.uuid4().hex[:6]}"
    meeting = await book_one(stack, provider)
    place = meeting.meeting.place
    async with booking.client(TOKEN) as staff, booking.client() as anyone:
        urls = {}
        for kind, subject in (
            ("provider", provider),
            ("venue", place.venue_id),
            ("room", place.room_id),
        ):
            issued = await staff.post(f"/api/booking/feeds/{kind}/{subject}")
            assert issued.status_code == 200, issued.text
            urls[kind] = issued.json()
            assert urls[kind]["url"].startswith("webcal://booking.test/feeds/")
            again = await staff.post(f"/api/booking/feeds/{kind}/{subject}")
            assert again.json() == urls[kind]  # the same URL until revoked
        for kind, url in urls.items():
            feed = await anyone.get(httpx.URL(url["https_url"]).path)
            assert feed.status_code == 200, (kind, feed.text)
            assert feed.headers["content-type"].startswith("text/calendar")
            calendar = check_calendar_object(feed.text)
            uids = [str(event["UID"]) for event in calendar.walk("VEVENT")]
            assert meeting.calendar.uid in uids, kind
            for attendee in meeting.meeting.attendees:
                assert str(attendee.contact.email) not in feed.text
                assert attendee.contact.name not in feed.text
                assert attendee.party_name in feed.text
            assert "+4923112345" not in feed.text
        other = await staff.post(f"/api/booking/feeds/provider/p-nobody-{uuid.uuid4().hex[:4]}")
        empty = await anyone.get(httpx.URL(other.json()["https_url"]).path)
        assert meeting.calendar.uid not in empty.text

        revoked = await staff.delete(f"/api/booking/feeds/provider/{provider}")
        assert revoked.status_code == 200
        assert revoked.json()["url"] != urls["provider"]["url"]
        old = await anyone.get(httpx.URL(urls["provider"]["https_url"]).path)
        assert old.status_code == 404
        new = await anyone.get(httpx.URL(revoked.json()["https_url"]).path)
        assert new.status_code == 200
        assert meeting.calendar.uid in new.text
        path = httpx.URL(urls["venue"]["https_url"]).path
        forged = await anyone.get(path.replace(".ics", "x.ics"))
        assert forged.status_code == 404

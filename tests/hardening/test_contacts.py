"""Contacts are checked where they enter (time zone, phone number, control characters in
names), and an attendee page never fails on a contact stored before these checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.booking import service
from services.booking.domain import rsvp
from services.booking.domain.calendar import BERLIN
from services.booking.settings import BookingSettings
from shared.db import transaction
from shared.events.base import wrap
from shared.events.common import Contact
from tests.booking.test_booking_flow import match_accepted
from tests.hardening.conftest import TOKEN
from tests.matching.sample import BAUSTOFF, contact
from tests.support.harness import RunningService

pytestmark = pytest.mark.integration


async def test_bad_time_zone_phone_and_name_are_refused_each_by_its_field(
    matching: RunningService,
) -> None:
    contacts = [
        {**contact("c1", "Petra\r\nBcc: x@example.org"), "timezone": "Mars/Olympus"},
        {**contact("c2", "Jan"), "phone": "12", "sms_consent": True},
        {**contact("c3", "Ina"), "timezone": "../../etc/passwd"},
    ]
    async with matching.client(TOKEN) as staff:
        refused = await staff.put(
            "/api/matching/companies/co-bad", json={**BAUSTOFF, "contacts": contacts}
        )
        national = await staff.put(
            "/api/matching/companies/co-ok",
            json={**BAUSTOFF, "contacts": [{**contact("c4", "Jörg"), "phone": "0231 1234567"}]},
        )
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {
        "contacts.0.name",
        "contacts.0.timezone",
        "contacts.1.phone",
        "contacts.2.timezone",
    }
    assert national.status_code == 200, national.text
    stored = await matching.runtime.pool.fetchval(
        "SELECT doc FROM companies WHERE company_id = 'co-ok'"
    )
    assert stored["contacts"][0]["phone"] == "+492311234567", "stored in E.164"


async def test_the_rsvp_page_of_a_contact_with_an_unknown_zone_shows_berlin_time(
    booking: RunningService,
) -> None:
    match = match_accepted("p-zone")
    odd = Contact(contact_id="c-odd", name="Otto", email="otto@example.org", timezone="Nowhere/X")
    company = match.company.model_copy(update={"contacts": (odd,)})
    match = match.model_copy(update={"company": company})
    now = datetime.now(UTC)
    async with transaction(booking.runtime.pool) as conn:
        meeting = await service.book_match(
            conn, wrap(match, source="matching"), BookingSettings(), b"k", now
        )
    assert meeting is not None
    secret = booking.runtime.state["rsvp_secret"]
    token = rsvp.issue(secret, meeting.meeting_id, "c-odd", now + timedelta(days=60))
    async with booking.client() as client:
        page = await client.get(f"/rsvp/{token}")
    assert page.status_code == 200, page.text
    assert meeting.start.astimezone(BERLIN).strftime("%H:%M") in page.text

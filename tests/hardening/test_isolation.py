"""One broken venue, room or availability never stops booking at the others; a state that the
holiday library does not know is refused at the API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from services.booking import places_repository, repository, service
from services.booking.settings import BookingSettings
from shared.db import Pool, create_pool, transaction
from shared.events.base import wrap
from shared.events.booking import MeetingDetails
from shared.messaging import PermanentError
from shared.migrations import migrate, migrations_for
from tests.booking.test_booking_flow import MIGRATIONS, match_accepted
from tests.hardening.conftest import TOKEN
from tests.support.harness import RunningService
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
NOW = datetime(2027, 1, 4, 7, tzinfo=UTC)
GOOD_VENUE = {
    "name": "Rathaus",
    "address": "Markt 1",
    "rooms": [{"room_id": "r-good", "name": "A"}],
}


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


async def test_a_venue_in_an_unknown_state_is_refused_by_field(booking: RunningService) -> None:
    async with booking.client(TOKEN) as staff:
        refused = await staff.put("/api/booking/venues/v-xx", json={**GOOD_VENUE, "state": "XX"})
        augsburg = await staff.put(
            "/api/booking/venues/v-aug", json={**GOOD_VENUE, "state": "Augsburg"}
        )
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["state"]
    assert augsburg.status_code == 200, augsburg.text


async def test_broken_venues_and_availability_stop_only_their_own_bookings(pool: Pool) -> None:
    async with transaction(pool) as conn:
        # Written before the API checked them (or by hand): read back as they are stored.
        await repository.upsert_venue(
            conn, "a-broken-state", {"venue_id": "a-broken-state", **GOOD_VENUE, "state": "XX"}
        )
        await repository.upsert_venue(
            conn, "b-broken-room", {"venue_id": "b-broken-room", **GOOD_VENUE, "rooms": [{}]}
        )
        await repository.upsert_venue(conn, "c-good", {"venue_id": "c-good", **GOOD_VENUE})
        await places_repository.put_availability(
            conn, "provider", "p-broken", {"weekly": {"0": [["nine", "five"]]}}
        )
    fine, unreadable = match_accepted("p-fine"), match_accepted("p-broken")
    envelopes = [wrap(fine, source="matching"), wrap(unreadable, source="matching")]
    async with transaction(pool) as conn:
        outcomes = await service.book_group(
            conn, "booking", envelopes, BookingSettings(options=1), b"k", NOW
        )
    booked, refused = outcomes
    assert isinstance(booked, MeetingDetails)
    assert booked.place.venue_id == "c-good"
    assert isinstance(refused, PermanentError)
    assert "provider:p-broken" in str(refused)
    async with transaction(pool) as conn:
        alone = await service.book_match(
            conn, wrap(match_accepted("p-alone"), source="matching"), BookingSettings(), b"k", NOW
        )
    assert alone is not None
    assert alone.place.venue_id == "c-good"

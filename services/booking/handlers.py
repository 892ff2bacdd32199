"""Event handlers and background loops of the booking service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
from faststream.nats import NatsRouter

from services.booking import service
from services.booking.service import MEETINGS
from services.booking.settings import BookingSettings
from shared.db import transaction
from shared.events.base import Envelope
from shared.events.matching import MatchAccepted
from shared.events.streams import BOOKING_ON_MATCHING
from shared.messaging import handle_once, reliable_router, reliable_subscriber
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)


def _settings(runtime: ServiceRuntime) -> BookingSettings:
    settings = runtime.settings
    assert isinstance(settings, BookingSettings)
    return settings


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(BOOKING_ON_MATCHING)

    @reliable_subscriber(router, BOOKING_ON_MATCHING)
    async def on_match_accepted(envelope: Envelope[MatchAccepted]) -> None:
        booked: list[str] = []

        async def effect(conn: asyncpg.Connection) -> None:
            # No per-type counter row here: one hot row serialised every booking (the inbox
            # already records each handled event with its type).
            details = await service.book_match(
                conn, envelope, _settings(runtime), runtime.state["rsvp_secret"], datetime.now(UTC)
            )
            if details is not None:
                booked.append(details.meeting_id)
                log.info(
                    "meeting booked",
                    extra={"meeting_id": details.meeting_id, "match_id": details.match_id},
                )

        await handle_once(runtime.pool, BOOKING_ON_MATCHING.durable, envelope, effect)
        if booked:  # counted after the commit
            MEETINGS.labels("confirmed").inc()

    return [router]


async def reminder_loop(runtime: ServiceRuntime) -> None:
    """Publishes due reminders; replicas share the work through SKIP LOCKED."""
    while True:
        async with transaction(runtime.pool) as conn:
            sent = await service.publish_due_reminders(conn, datetime.now(UTC))
        if sent == 0:
            await asyncio.sleep(_settings(runtime).reminder_poll_seconds)

"""Event handlers of the matching service: thin adapters from events to the domain."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg
from faststream.nats import NatsRouter

from services.matching import repository
from shared.events.base import Envelope
from shared.events.booking import BookingEvent, FeedbackGiven
from shared.events.streams import MATCHING_ON_BOOKING
from shared.messaging import handle_once, reliable_router, reliable_subscriber
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(MATCHING_ON_BOOKING)

    @reliable_subscriber(router, MATCHING_ON_BOOKING)
    async def on_event(envelope: Envelope[BookingEvent]) -> None:
        async def effect(conn: asyncpg.Connection) -> None:
            await repository.record_received(conn, envelope.type)
            event = envelope.data
            if isinstance(event, FeedbackGiven) and event.rating is not None:
                await repository.rate_provider(conn, event.provider_id, (event.rating - 1) / 3)

        handled = await handle_once(runtime.pool, MATCHING_ON_BOOKING.durable, envelope, effect)
        log.info("event received", extra={"event_id": str(envelope.id), "first_time": handled})

    return [router]

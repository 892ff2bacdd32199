"""Event handlers of the notify service: thin adapters from events to the domain."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg
from faststream.nats import NatsRouter

from services.notify import repository
from shared.events.base import Envelope
from shared.events.booking import BookingEvent
from shared.events.streams import NOTIFY_ON_BOOKING
from shared.messaging import handle_once, reliable_router, reliable_subscriber
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(NOTIFY_ON_BOOKING)

    @reliable_subscriber(router, NOTIFY_ON_BOOKING)
    async def on_event(envelope: Envelope[BookingEvent]) -> None:
        async def effect(conn: asyncpg.Connection) -> None:
            await repository.record_received(conn, envelope.type)

        handled = await handle_once(runtime.pool, NOTIFY_ON_BOOKING.durable, envelope, effect)
        log.info("event received", extra={"event_id": str(envelope.id), "first_time": handled})

    return [router]

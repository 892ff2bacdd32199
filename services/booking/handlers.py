"""Event handlers of the booking service: thin adapters from events to the domain."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg
from faststream.nats import NatsRouter

from services.booking import repository
from shared.events.base import Envelope
from shared.events.matching import MatchAccepted
from shared.events.streams import BOOKING_ON_MATCHING
from shared.messaging import handle_once, reliable_router, reliable_subscriber
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(BOOKING_ON_MATCHING)

    @reliable_subscriber(router, BOOKING_ON_MATCHING)
    async def on_event(envelope: Envelope[MatchAccepted]) -> None:
        async def effect(conn: asyncpg.Connection) -> None:
            await repository.record_received(conn, envelope.type)

        handled = await handle_once(runtime.pool, BOOKING_ON_MATCHING.durable, envelope, effect)
        log.info("event received", extra={"event_id": str(envelope.id), "first_time": handled})

    return [router]

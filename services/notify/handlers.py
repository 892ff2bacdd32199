"""Event handlers and background loops of the notify service."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream.nats import NatsRouter

from services.notify import service
from services.notify.settings import NotifySettings
from shared.events.base import Envelope
from shared.events.booking import BookingEvent
from shared.events.streams import NOTIFY_ON_BOOKING
from shared.messaging import reliable_router, reliable_subscriber
from shared.service import ServiceRuntime


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(NOTIFY_ON_BOOKING)

    @reliable_subscriber(router, NOTIFY_ON_BOOKING)
    async def on_booking_event(envelope: Envelope[BookingEvent]) -> None:
        outbound: service.Outbound = runtime.state["outbound"]
        # The deliveries table, unique per (event, channel, recipient), makes this idempotent.
        await service.deliver_event(runtime.pool, outbound, envelope, NOTIFY_ON_BOOKING.max_deliver)

    return [router]


async def held_loop(runtime: ServiceRuntime) -> None:
    """Sends SMS held back by quiet hours or the rate limit, once they are due."""
    settings = runtime.settings
    assert isinstance(settings, NotifySettings)
    while True:
        sent = await service.send_held(
            runtime.pool, runtime.state["outbound"], NOTIFY_ON_BOOKING.max_deliver
        )
        if sent == 0:
            await asyncio.sleep(settings.held_poll_seconds)

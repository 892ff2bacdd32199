"""Event handlers and background loops of the notify service."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream.nats import NatsRouter

from services.notify import service
from services.notify.settings import NotifySettings
from shared.events.base import Envelope
from shared.events.booking import BookingEvent, MeetingDetails
from shared.events.streams import NOTIFY_ON_BOOKING
from shared.messaging import reliable_router, reliable_subscriber
from shared.messaging.grouping import GroupCommit
from shared.service import ServiceRuntime


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(NOTIFY_ON_BOOKING)
    groups: GroupCommit[Envelope[BookingEvent], Exception | None] = GroupCommit(
        lambda envelopes: service.deliver_events(
            runtime.pool, runtime.state["outbound"], envelopes, NOTIFY_ON_BOOKING.max_deliver
        )
    )

    @reliable_subscriber(router, NOTIFY_ON_BOOKING)
    async def on_booking_event(envelope: Envelope[BookingEvent]) -> None:
        outbound: service.Outbound = runtime.state["outbound"]
        meeting: MeetingDetails | None = getattr(envelope.data, "meeting", None)
        # One event of a meeting at a time: a later one waits, so never shares a group with it.
        async with outbound.meeting_lock(meeting.meeting_id if meeting else str(envelope.id)):
            # The deliveries table, unique per (event, channel, recipient), makes this idempotent.
            failure = await groups.submit(envelope)
        if failure is not None:
            raise failure

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

"""Event handlers and background loops of the booking service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
from faststream.nats import NatsRouter

from services.booking import service
from services.booking.calendars.service import refresh_before_booking
from services.booking.service import MEETINGS
from services.booking.settings import BookingSettings
from shared.db import transaction
from shared.events.base import Envelope
from shared.events.booking import MeetingDetails
from shared.events.matching import MatchAccepted
from shared.events.streams import BOOKING_ON_MATCHING
from shared.messaging import handle_once, reliable_router, reliable_subscriber
from shared.messaging.grouping import GroupCommit
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)


def _settings(runtime: ServiceRuntime) -> BookingSettings:
    settings = runtime.settings
    assert isinstance(settings, BookingSettings)
    return settings


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(BOOKING_ON_MATCHING)
    groups: GroupCommit[Envelope[MatchAccepted], MeetingDetails | None] = GroupCommit(
        lambda envelopes: book_together(runtime, envelopes),
        max_size=_settings(runtime).group_size,
        alone=lambda envelope: book_alone(runtime, envelope),
    )

    @reliable_subscriber(router, BOOKING_ON_MATCHING)
    async def on_match_accepted(envelope: Envelope[MatchAccepted]) -> None:
        details = await groups.submit(envelope)
        if details is not None:  # counted after the commit
            MEETINGS.labels("confirmed").inc()
            log.info(
                "meeting booked",
                extra={"meeting_id": details.meeting_id, "match_id": details.match_id},
            )

    return [router]


async def book_together(
    runtime: ServiceRuntime, envelopes: Sequence[Envelope[MatchAccepted]]
) -> list[MeetingDetails | Exception | None]:
    """The events delivered meanwhile, booked in one transaction."""
    await refresh_before_booking(
        runtime.pool, _settings(runtime), (e.data.provider.party_id for e in envelopes)
    )
    async with transaction(runtime.pool) as conn:
        return await service.book_group(
            conn,
            BOOKING_ON_MATCHING.durable,
            envelopes,
            _settings(runtime),
            runtime.state["rsvp_secret"],
            datetime.now(UTC),
        )


async def book_alone(
    runtime: ServiceRuntime, envelope: Envelope[MatchAccepted]
) -> MeetingDetails | None:
    """One event on its own, as before groups: for the events of a group that failed."""
    booked: list[MeetingDetails] = []
    provider_id = envelope.data.provider.party_id
    await refresh_before_booking(runtime.pool, _settings(runtime), [provider_id])

    async def effect(conn: asyncpg.Connection) -> None:
        # No per-type counter row here: one hot row serialised every booking (the inbox
        # already records each handled event with its type).
        details = await service.book_match(
            conn, envelope, _settings(runtime), runtime.state["rsvp_secret"], datetime.now(UTC)
        )
        if details is not None:
            booked.append(details)

    await handle_once(runtime.pool, BOOKING_ON_MATCHING.durable, envelope, effect)
    return booked[0] if booked else None


async def reminder_loop(runtime: ServiceRuntime) -> None:
    """Publishes due reminders; replicas share the work through SKIP LOCKED."""
    while True:
        async with transaction(runtime.pool) as conn:
            sent = await service.publish_due_reminders(conn, datetime.now(UTC))
        if sent == 0:
            await asyncio.sleep(_settings(runtime).reminder_poll_seconds)

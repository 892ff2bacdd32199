"""Event handlers of the matching service: thin adapters from events to the domain."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg
from faststream.nats import NatsRouter

from services.matching import repository
from shared.events.base import Envelope
from shared.events.booking import BookingEvent, FeedbackGiven, FeedbackOutcome, MeetingDeclined
from shared.events.common import PartyKind
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
            if isinstance(event, FeedbackGiven):
                await _learn_from_feedback(conn, event)
            elif isinstance(event, MeetingDeclined) and event.match_reopened:
                await _reopen(conn, event)

        handled = await handle_once(runtime.pool, MATCHING_ON_BOOKING.durable, envelope, effect)
        log.info("event received", extra={"event_id": str(envelope.id), "first_time": handled})

    return [router]


# A later outcome says more about a provider than the first impression.
OUTCOME_SIGNAL = {
    FeedbackOutcome.PROJECT_STARTED: 1.0,
    FeedbackOutcome.IN_PROGRESS: 0.75,
    FeedbackOutcome.NO_FOLLOW_UP: 0.25,
}


async def _learn_from_feedback(conn: asyncpg.Connection, event: FeedbackGiven) -> None:
    if event.rating is not None:
        await repository.rate_provider(conn, event.provider_id, (event.rating - 1) / 3)
    if event.outcome is not None:
        await repository.rate_provider(conn, event.provider_id, OUTCOME_SIGNAL[event.outcome])


async def _reopen(conn: asyncpg.Connection, event: MeetingDeclined) -> None:
    """booking gave up on the meeting: the need is open again and the provider's slot free."""
    meeting = event.meeting
    provider = next(
        (a.party_id for a in meeting.attendees if a.party_kind == PartyKind.PROVIDER), None
    )
    await repository.set_need_status(conn, meeting.need_id, "open")
    if provider is not None:
        await repository.release_provider(conn, provider)
    log.info("need reopened", extra={"need_id": meeting.need_id, "match_id": meeting.match_id})

"""booking's part of an erasure: RSVP comments, feedback texts and the meetings' attendees.

The meetings stay (rooms were booked, statistics count them); the person in them does not.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from faststream.nats import NatsRouter

from shared.erasure import handle_erasure
from shared.events.base import Envelope
from shared.events.privacy import ErasureRequested, ExportRequested, PrivacyEvent
from shared.events.streams import BOOKING_ON_PRIVACY, BOOKING_STREAM
from shared.export import handle_export
from shared.messaging import reliable_router, reliable_subscriber
from shared.privacy import ErasureSubject
from shared.service import ServiceRuntime

# Free texts a person wrote; the answer itself (accepted, a rating) stays as a count.
_FREE_TEXTS = {
    "booking.declines": "UPDATE declines SET comment = '' WHERE contact_id = ANY($1::text[]) "
    "AND comment <> ''",
    "booking.feedback": "UPDATE feedback SET comment = '' WHERE contact_id = ANY($1::text[]) "
    "AND comment <> ''",
    "booking.counter_proposals": "UPDATE counter_proposals SET comment = '' "
    "WHERE contact_id = ANY($1::text[]) AND comment <> ''",
}


async def booking_steps(conn: asyncpg.Connection, subject: ErasureSubject) -> dict[str, int]:
    rows: dict[str, int] = {}
    for table, sql in _FREE_TEXTS.items():
        count = int((await conn.execute(sql, sorted(subject.contact_ids))).split()[-1])
        if count:
            rows[table] = count
    return rows


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(BOOKING_ON_PRIVACY)

    @reliable_subscriber(router, BOOKING_ON_PRIVACY)
    async def on_privacy_event(envelope: Envelope[PrivacyEvent]) -> None:
        if isinstance(envelope.data, ErasureRequested):
            await handle_erasure(
                pool=runtime.pool,
                client=runtime.broker.connection,
                service="booking",
                schema=runtime.settings.schema_name,
                consumer=BOOKING_ON_PRIVACY.durable,
                own_stream=BOOKING_STREAM.name,
                envelope=envelope,  # type: ignore[arg-type]
                own_steps=booking_steps,
            )

        elif isinstance(envelope.data, ExportRequested):
            await handle_export(
                pool=runtime.pool,
                service="booking",
                schema=runtime.settings.schema_name,
                consumer=BOOKING_ON_PRIVACY.durable,
                envelope=envelope,  # type: ignore[arg-type]
            )

    return [router]

"""booking's part of an erasure: RSVP comments, feedback texts and the meetings' attendees.

The meetings stay (rooms were booked, statistics count them); the person in them does not.
An erased provider organisation loses its calendar registration (URL, username, secret
reference), the busy times fetched from it and the record of copies written into it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

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


# Child rows first: provider_busy would go with its calendar anyway, but is counted so.
_PROVIDER_CALENDARS = {
    "booking.provider_busy": "DELETE FROM provider_busy WHERE provider_id = ANY($1::text[])",
    "booking.calendar_copies": "DELETE FROM calendar_copies WHERE provider_id = ANY($1::text[])",
    "booking.calendar_copy_retries": "DELETE FROM calendar_copy_retries "
    "WHERE provider_id = ANY($1::text[])",
    "booking.provider_calendars": "DELETE FROM provider_calendars "
    "WHERE provider_id = ANY($1::text[])",
}
# The providers the contacts attend meetings for: their calendars are in the contacts' export.
_PROVIDERS_OF_CONTACTS = """
SELECT DISTINCT a->>'party_id' AS provider_id
FROM meetings m CROSS JOIN jsonb_array_elements(m.details->'attendees') AS a
WHERE a->>'party_kind' = 'provider' AND a->'contact'->>'contact_id' = ANY($1::text[])
"""
_CALENDARS_OF = """
SELECT to_jsonb(c)::text AS row FROM provider_calendars c WHERE provider_id = ANY($1::text[])
"""
_BUSY_OF = """
SELECT provider_id, lower(span) AS starts, upper(span) AS ends
FROM provider_busy WHERE provider_id = ANY($1::text[]) ORDER BY provider_id, lower(span)
"""


async def _deleted(
    conn: asyncpg.Connection, statements: dict[str, str], ids: list[str]
) -> dict[str, int]:
    rows: dict[str, int] = {}
    for table, sql in statements.items():
        count = int((await conn.execute(sql, ids)).split()[-1])
        if count:
            rows[table] = count
    return rows


async def booking_steps(conn: asyncpg.Connection, subject: ErasureSubject) -> dict[str, int]:
    rows = await _deleted(conn, _FREE_TEXTS, sorted(subject.contact_ids))
    if subject.party_ids:
        rows |= await _deleted(conn, _PROVIDER_CALENDARS, sorted(subject.party_ids))
    return rows


async def calendar_records(
    conn: asyncpg.Connection, contact_ids: frozenset[str]
) -> dict[str, list[Any]]:
    """The calendar registrations and busy times of the contacts' provider organisations."""
    providers = [
        r["provider_id"] for r in await conn.fetch(_PROVIDERS_OF_CONTACTS, sorted(contact_ids))
    ]
    if not providers:
        return {}
    records: dict[str, list[Any]] = {}
    calendars = [json.loads(r["row"]) for r in await conn.fetch(_CALENDARS_OF, providers)]
    busy = [
        {
            "provider_id": r["provider_id"],
            "starts": r["starts"].isoformat(),
            "ends": r["ends"].isoformat(),
        }
        for r in await conn.fetch(_BUSY_OF, providers)
    ]
    for table, found in (("provider_calendars", calendars), ("provider_busy", busy)):
        if found:
            records[table] = found
    return records


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
                own_records=calendar_records,
            )

    return [router]

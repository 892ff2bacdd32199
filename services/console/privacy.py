"""The console's part of erasure (Art. 17) and access (Art. 15): its read model holds names,
addresses and numbers of attendees, organisation names and dead letters' bodies.

The read model keeps them in columns, not in JSON objects with a ``contact_id`` beside them,
so the console names the person's terms itself before the generic scrub of its schema runs.
The console has no stream of its own; the dead letters are cleaned by the other services.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from faststream.nats import NatsRouter

from shared.erasure import handle_erasure
from shared.events.base import Envelope
from shared.events.privacy import ErasureRequested, ExportRequested, PrivacyEvent
from shared.events.streams import CONSOLE_ON_PRIVACY
from shared.export import handle_export
from shared.messaging import reliable_router, reliable_subscriber
from shared.privacy import ErasureSubject
from shared.service import ServiceRuntime

_ATTENDEES = """
SELECT contact_name, email, phone FROM attendees WHERE contact_id = ANY($1::text[])
"""
_ORGANISATIONS = """
SELECT name FROM companies WHERE company_id = ANY($1::text[])
UNION SELECT name FROM providers WHERE provider_id = ANY($1::text[])
"""


async def console_terms(conn: asyncpg.Connection, subject: ErasureSubject) -> dict[str, int]:
    """The contacts' names, addresses and numbers and the organisations' names, as terms."""
    for row in await conn.fetch(_ATTENDEES, sorted(subject.contact_ids)):
        subject.add_terms(row.values())
    if subject.party_ids:
        subject.add_terms(
            r["name"] for r in await conn.fetch(_ORGANISATIONS, sorted(subject.party_ids))
        )
    return {}


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(CONSOLE_ON_PRIVACY)

    @reliable_subscriber(router, CONSOLE_ON_PRIVACY)
    async def on_privacy_event(envelope: Envelope[PrivacyEvent]) -> None:
        if isinstance(envelope.data, ErasureRequested):
            await handle_erasure(
                pool=runtime.pool,
                client=runtime.broker.connection,
                service="console",
                schema=runtime.settings.schema_name,
                consumer=CONSOLE_ON_PRIVACY.durable,
                own_stream=None,
                envelope=envelope,  # type: ignore[arg-type]
                own_steps=console_terms,
            )
        elif isinstance(envelope.data, ExportRequested):
            await handle_export(
                pool=runtime.pool,
                service="console",
                schema=runtime.settings.schema_name,
                consumer=CONSOLE_ON_PRIVACY.durable,
                envelope=envelope,  # type: ignore[arg-type]
                own_terms=console_terms,
            )

    return [router]

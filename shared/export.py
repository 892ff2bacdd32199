"""One access request (GDPR Art. 15), answered by one service with what it holds."""

from __future__ import annotations

import asyncpg

from shared.db import Pool
from shared.events.base import Envelope, utc_now, wrap
from shared.events.privacy import ExportAssembled, ExportRequested
from shared.messaging.inbox import handle_once
from shared.messaging.outbox import enqueue
from shared.privacy import rows_about


async def handle_export(
    *, pool: Pool, service: str, schema: str, consumer: str, envelope: Envelope[ExportRequested]
) -> None:
    async def effect(conn: asyncpg.Connection) -> None:
        records = await rows_about(conn, schema, frozenset(envelope.data.contact_ids))
        part = ExportAssembled(
            request_id=envelope.data.request_id,
            service=service,
            records=records,
            assembled_at=utc_now(),
        )
        await enqueue(conn, wrap(part, source=service, causation=envelope))

    await handle_once(pool, consumer, envelope, effect)

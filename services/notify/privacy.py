"""notify's part of an erasure: deliveries, their payloads and what waits to be sent.

Delivery records stay as counts (channel, status, times); the recipient's address, name and
the stored message contents do not. What still waits for the person is never sent.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from faststream.nats import NatsRouter

from shared.erasure import handle_erasure
from shared.events.base import Envelope
from shared.events.privacy import ErasureRequested, ExportRequested, PrivacyEvent
from shared.events.streams import NOTIFY_ON_PRIVACY, NOTIFY_STREAM
from shared.export import handle_export
from shared.messaging import reliable_router, reliable_subscriber
from shared.privacy import ErasureSubject
from shared.service import ServiceRuntime

_STOP_WAITING = """
UPDATE deliveries SET status = 'erased', not_before = NULL, updated_at = now()
WHERE contact_id = ANY($1::text[]) AND status IN ('pending', 'held', 'retrying')
"""
_RECIPIENTS = "SELECT DISTINCT recipient FROM deliveries WHERE contact_id = ANY($1::text[])"


async def notify_steps(conn: asyncpg.Connection, subject: ErasureSubject) -> dict[str, int]:
    contacts = sorted(subject.contact_ids)
    subject.add_terms(row["recipient"] for row in await conn.fetch(_RECIPIENTS, contacts))
    stopped = int((await conn.execute(_STOP_WAITING, contacts)).split()[-1])
    return {"notify.deliveries (stopped)": stopped} if stopped else {}


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(NOTIFY_ON_PRIVACY)

    @reliable_subscriber(router, NOTIFY_ON_PRIVACY)
    async def on_privacy_event(envelope: Envelope[PrivacyEvent]) -> None:
        if isinstance(envelope.data, ErasureRequested):
            await handle_erasure(
                pool=runtime.pool,
                client=runtime.broker.connection,
                service="notify",
                schema=runtime.settings.schema_name,
                consumer=NOTIFY_ON_PRIVACY.durable,
                own_stream=NOTIFY_STREAM.name,
                envelope=envelope,  # type: ignore[arg-type]
                own_steps=notify_steps,
            )

        elif isinstance(envelope.data, ExportRequested):
            await handle_export(
                pool=runtime.pool,
                service="notify",
                schema=runtime.settings.schema_name,
                consumer=NOTIFY_ON_PRIVACY.durable,
                envelope=envelope,  # type: ignore[arg-type]
            )

    return [router]

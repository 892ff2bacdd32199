"""One erasure request, handled by one service: its schema, then its streams, then the answer.

Every service runs the same steps in one transaction (with the inbox claim, so a redelivered
request changes nothing): the service's own steps (``ServiceErasure``), the generic scrub of
its whole schema (``shared.privacy``), the deletion of stream messages that name the person
(``shared.privacy_streams``) and ``privacy.erasure.completed`` through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg
from nats.aio.client import Client as NatsClient

from shared.db import Pool
from shared.events.base import Envelope, utc_now, wrap
from shared.events.privacy import ErasureCompleted, ErasureRequested
from shared.events.streams import DEADLETTER_STREAM
from shared.messaging.inbox import handle_once
from shared.messaging.outbox import enqueue
from shared.privacy import ErasureSubject, erase_from_schema
from shared.privacy_streams import purge_streams

log = logging.getLogger(__name__)

ServiceErasure = Callable[[asyncpg.Connection, ErasureSubject], Awaitable[dict[str, int]]]
"""A service's own steps before the generic scrub: terms only it knows, rows it deletes."""


async def _nothing(_: asyncpg.Connection, __: ErasureSubject) -> dict[str, int]:
    return {}


async def hold_the_outbox(conn: asyncpg.Connection) -> None:
    """Wait for every transaction that wrote to the outbox (and for the relay) to end, and keep
    new writes and relay rounds out until the erasure commits.

    Without it an event naming the person, written by a transaction still open when the scrub
    reads the outbox, would commit afterwards and be published with the person's data. EXCLUSIVE
    conflicts with the writers' ROW EXCLUSIVE and the relay's ROW SHARE (``FOR UPDATE``) but not
    with plain reads. A writer that holds a row the erasure needs and then waits here is a
    deadlock that PostgreSQL breaks by aborting one side; both are redelivered and retried.
    """
    await conn.execute("LOCK TABLE outbox IN EXCLUSIVE MODE")


def subject_of(event: ErasureRequested) -> ErasureSubject:
    return ErasureSubject(
        request_id=event.request_id,
        contact_ids=frozenset(event.contact_ids),
        party_ids=frozenset(event.party_ids),
    )


async def handle_erasure(
    *,
    pool: Pool,
    client: NatsClient,
    service: str,
    schema: str,
    consumer: str,
    own_stream: str | None,
    envelope: Envelope[ErasureRequested],
    own_steps: ServiceErasure = _nothing,
    more_streams: tuple[str, ...] = (),
) -> ErasureCompleted | None:
    """Erase the request's people from this service; None if it was handled before."""
    done: list[ErasureCompleted] = []

    async def effect(conn: asyncpg.Connection) -> None:
        await hold_the_outbox(conn)
        subject = subject_of(envelope.data)
        rows = await own_steps(conn, subject)
        for table, count in (await erase_from_schema(conn, schema, subject)).items():
            rows[table] = rows.get(table, 0) + count
        # Inside the transaction: if the commit fails, the redelivery scans again (deleting is
        # idempotent) while the terms can still be found in the schema.
        own = (own_stream, DEADLETTER_STREAM.name) if own_stream else ()
        streams = await purge_streams(client, (*own, *more_streams), subject, service=service)
        completed = ErasureCompleted(
            request_id=envelope.data.request_id,
            service=service,
            rows=rows,
            stream_messages_deleted=streams,
            completed_at=utc_now(),
        )
        await enqueue(conn, wrap(completed, source=service, causation=envelope))
        done.append(completed)

    await handle_once(pool, consumer, envelope, effect)
    if done:
        log.info(
            "erasure done",
            extra={"request_id": envelope.data.request_id, "tables": len(done[0].rows)},
        )
    return done[0] if done else None

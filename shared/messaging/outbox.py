"""The transactional outbox and its relay.

A unit of work calls ``enqueue`` on its own connection; the event then commits (or rolls
back) with the state change. The relay publishes committed rows with ``Nats-Msg-Id`` set,
so a row published twice (a relay killed between publish and mark) is dropped by JetStream's
duplicate window. ``FOR UPDATE SKIP LOCKED`` lets several replicas relay side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import asyncpg
from faststream.nats import NatsBroker
from prometheus_client import Counter, Gauge

from shared.db import Pool
from shared.events.base import Envelope
from shared.messaging.publisher import headers_for, publish_raw

log = logging.getLogger(__name__)

ACTOR_HEADER = "Werkbank-Actor"

OUTBOX_PUBLISHED = Counter(
    "werkbank_outbox_published_total", "Events published by the outbox relay", ["service"]
)
OUTBOX_ERRORS = Counter("werkbank_outbox_errors_total", "Failed outbox relay rounds", ["service"])
OUTBOX_PENDING = Gauge(
    "werkbank_outbox_pending", "Outbox rows not yet published (last seen)", ["service"]
)

_INSERT = """
INSERT INTO outbox (event_id, subject, headers, body) VALUES ($1, $2, $3::text::jsonb, $4)
ON CONFLICT (event_id) DO NOTHING
"""
_LOCK_PENDING = """
SELECT seq, subject, headers, body FROM outbox
WHERE published_at IS NULL
ORDER BY seq
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
_MARK_PUBLISHED = (
    "UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE seq = ANY($1)"
)
_COUNT_PENDING = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
_PURGE = "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)"


async def enqueue(
    conn: asyncpg.Connection,
    envelope: Envelope[Any],
    subject: str | None = None,
    *,
    actor: str | None = None,
) -> None:
    """Write the event in the caller's transaction; the relay publishes it after commit.

    ``actor``: the IdP subject of the person whose action caused the event, sent as the
    ``Werkbank-Actor`` header."""
    headers = headers_for(envelope)
    if actor:
        headers[ACTOR_HEADER] = actor
    await conn.execute(
        _INSERT,
        envelope.id,
        subject or envelope.subject,
        json.dumps(headers),
        envelope.to_bytes(),
    )


async def enqueue_all(conn: asyncpg.Connection, envelopes: list[Envelope[Any]]) -> None:
    """``enqueue`` for many events, in one round trip."""
    await conn.executemany(
        _INSERT,
        [(e.id, e.subject, json.dumps(headers_for(e)), e.to_bytes()) for e in envelopes],
    )


class OutboxRelay:
    """Publishes committed outbox rows; woken by NOTIFY, with polling as a safety net."""

    def __init__(
        self,
        pool: Pool,
        broker: NatsBroker,
        *,
        service: str,
        schema: str,
        batch_size: int = 200,
        poll_seconds: float = 1.0,
        retention_seconds: float = 24 * 3600,
    ) -> None:
        self._pool = pool
        self._broker = broker
        self._service = service
        self._channel = f"{schema}_outbox"
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._retention_seconds = retention_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._listener = await self._pool.acquire()
        await self._listener.add_listener(self._channel, self._on_notify)
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener(self._channel, self._on_notify)
            await self._pool.release(self._listener)
            self._listener = None

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _run(self) -> None:
        rounds = 0
        while True:
            try:
                published = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                OUTBOX_ERRORS.labels(self._service).inc()
                log.exception("outbox relay round failed; retrying")
                await asyncio.sleep(self._poll_seconds)
                continue
            rounds += 1
            if rounds % 600 == 0:
                await self._purge_published()
            if published >= self._batch_size:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_LOCK_PENDING, self._batch_size)
            if not rows:
                OUTBOX_PENDING.labels(self._service).set(0)
                return 0
            await asyncio.gather(
                *(
                    publish_raw(self._broker, row["subject"], row["body"], row["headers"])
                    for row in rows
                )
            )
            await conn.execute(_MARK_PUBLISHED, [row["seq"] for row in rows])
        OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    async def pending(self) -> int:
        count: int = await self._pool.fetchval(_COUNT_PENDING)
        OUTBOX_PENDING.labels(self._service).set(count)
        return count

    async def _purge_published(self) -> None:
        with contextlib.suppress(Exception):
            await self._pool.execute(_PURGE, self._retention_seconds)

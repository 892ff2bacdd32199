"""The transactional outbox and its relay.

A unit of work calls ``enqueue`` on its own connection; the event then commits (or rolls
back) with the state change. The relay publishes committed rows with ``Nats-Msg-Id`` set,
so a row published twice (a relay killed between publish and mark) is dropped by JetStream's
duplicate window. ``FOR UPDATE SKIP LOCKED`` lets several replicas relay side by side.

The relay is woken by PostgreSQL NOTIFY on a connection that LISTENs. When that connection is
lost (a PostgreSQL restart, say) the relay polls until it has listened again: the gauge
``werkbank_outbox_relay_mode`` says which of the two it is doing.
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

from shared.db import CONNECTION_ERRORS, Pool
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
RELAY_MODE = Gauge(
    "werkbank_outbox_relay_mode",
    "1 for the relay's current mode: notified (LISTEN) or polling (no listening connection)",
    ["service", "mode"],
)
RELAY_LISTENS = Counter(
    "werkbank_outbox_relay_listens_total",
    "Times the relay started to LISTEN (more than once: it lost its connection)",
    ["service"],
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
        self._listening: asyncio.Task[None] | None = None
        self._notified = False

    async def start(self) -> None:
        self._set_mode(notified=False)
        self._listening = asyncio.create_task(
            self._keep_listening(), name=f"outbox-listen-{self._service}"
        )
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._service}")

    async def stop(self) -> None:
        for task in (self._task, self._listening):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._listening = None

    @property
    def notified(self) -> bool:
        """True while a connection LISTENs for new rows; False while the relay only polls."""
        return self._notified

    def _set_mode(self, *, notified: bool) -> None:
        self._notified = notified
        RELAY_MODE.labels(self._service, "notified").set(1 if notified else 0)
        RELAY_MODE.labels(self._service, "polling").set(0 if notified else 1)

    async def _keep_listening(self) -> None:
        """LISTEN on a connection of its own; when it is lost, LISTEN again on a new one."""
        pause = 0.1
        while True:
            try:
                await self._listen_until_lost()
                pause = 0.1
            except asyncio.CancelledError:
                raise
            except CONNECTION_ERRORS as exc:
                log.warning("outbox relay cannot listen; polling", extra={"error": repr(exc)})
            finally:
                self._set_mode(notified=False)
            await asyncio.sleep(pause)
            pause = min(pause * 2, self._poll_seconds * 5, 5.0)

    async def _listen_until_lost(self) -> None:
        conn = await self._pool.acquire()
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _: lost.set())
            await conn.add_listener(self._channel, self._on_notify)
            RELAY_LISTENS.labels(self._service).inc()
            self._set_mode(notified=True)
            self._wake.set()  # rows committed while nobody listened
            while not (lost.is_set() or conn.is_closed()):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=1.0)
            log.warning("outbox relay lost its listening connection")
        finally:
            with contextlib.suppress(Exception):
                if not conn.is_closed():
                    await conn.remove_listener(self._channel, self._on_notify)
            with contextlib.suppress(Exception):
                await self._pool.release(conn, timeout=1.0)

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

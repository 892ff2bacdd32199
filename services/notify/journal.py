"""The acceptance journal: each email the SMTP server accepted, recorded at once.

The attempt's transaction commits later; a crash before that must not resend the email. The
journal writes on a connection of its own, held between records (it is used only inside the SMTP
pool's acceptance window, so one connection serves it). After a PostgreSQL restart that
connection is dead: the journal then takes a new one and records again, waiting while the
server comes back. The acceptance window stays closed meanwhile, so no further email is
accepted unjournalled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg
from prometheus_client import Counter

from services.notify import repository
from shared.db import CONNECTION_ERRORS, Pool

log = logging.getLogger(__name__)
JOURNAL_RECONNECTS = Counter(
    "werkbank_notify_journal_reconnects_total",
    "New connections the acceptance journal took after losing one",
)


class JournalUnavailableError(RuntimeError):
    """PostgreSQL stayed unreachable for the journal's whole patience."""


class AcceptanceJournal:
    def __init__(self, pool: Pool, *, patience_seconds: float = 30.0) -> None:
        self._pool = pool
        self._patience = patience_seconds
        self._conn: asyncpg.Connection | None = None

    async def record(self, delivery: str, message_id: str) -> None:
        deadline = time.monotonic() + self._patience
        pause = 0.05
        while True:
            try:
                conn = await self._connection()
                await repository.record_accepted(conn, delivery, message_id)
                return
            except CONNECTION_ERRORS as exc:
                await self._discard()
                if time.monotonic() + pause > deadline:
                    raise JournalUnavailableError(type(exc).__name__) from exc
                JOURNAL_RECONNECTS.inc()
                log.warning("journal connection lost; reconnecting", extra={"error": repr(exc)})
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)
            except BaseException:
                await self._discard()
                raise

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None:
            conn = await self._pool.acquire()
            try:
                # The entry guards against a crash of this process, after which PostgreSQL
                # still has it; it need not wait for the disk. Only a crash of PostgreSQL
                # itself could lose the last entries, and then an email is sent twice, with
                # the same Message-ID.
                await conn.execute("SET synchronous_commit TO off")
            except BaseException:
                await self._pool.release(conn)
                raise
            self._conn = conn
        return self._conn

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await self._pool.release(conn, timeout=1.0)

    async def close(self) -> None:
        await self._discard()


__all__ = ["AcceptanceJournal", "JournalUnavailableError"]

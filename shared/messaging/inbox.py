"""The inbox: a consumer's effects and the record that it handled the event commit together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from shared.db import Pool, transaction
from shared.events.base import Envelope

_CLAIM = """
INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING
RETURNING 1
"""
_HANDLED = "SELECT event_id FROM inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[])"
_CLAIM_MANY = """
INSERT INTO inbox (consumer, event_id, event_type)
SELECT $1, unnest($2::uuid[]), unnest($3::text[])
ON CONFLICT DO NOTHING
RETURNING event_id
"""


async def claim(conn: asyncpg.Connection, consumer: str, event_id: UUID, event_type: str) -> bool:
    """True the first time; False if this consumer already handled the event."""
    return await conn.fetchval(_CLAIM, consumer, event_id, event_type) is not None


async def handle_once(
    pool: Pool,
    consumer: str,
    envelope: Envelope[Any],
    effect: Callable[[asyncpg.Connection], Awaitable[None]],
) -> bool:
    """Run ``effect`` in one transaction with the inbox claim; returns False for a repeat."""
    async with transaction(pool) as conn:
        if not await claim(conn, consumer, envelope.id, envelope.type):
            return False
        await effect(conn)
        return True


async def handled(conn: asyncpg.Connection, consumer: str, event_ids: list[UUID]) -> set[UUID]:
    """The events of ``event_ids`` this consumer has already handled."""
    return {row["event_id"] for row in await conn.fetch(_HANDLED, consumer, event_ids)}


async def claim_new(
    conn: asyncpg.Connection, consumer: str, envelopes: Sequence[Envelope[Any]]
) -> set[UUID]:
    """Claim every event not handled before, in one round trip; returns those claimed now.

    A concurrent claim of the same event waits for the other transaction and is then left out."""
    rows = await conn.fetch(
        _CLAIM_MANY, consumer, [e.id for e in envelopes], [e.type for e in envelopes]
    )
    return {row["event_id"] for row in rows}


async def claim_all(
    conn: asyncpg.Connection, consumer: str, envelopes: list[Envelope[Any]]
) -> None:
    """Claim every event or none: one that was claimed meanwhile raises, so that the caller's
    transaction rolls back instead of handling that event twice."""
    rows = await conn.fetch(
        _CLAIM_MANY, consumer, [e.id for e in envelopes], [e.type for e in envelopes]
    )
    if len(rows) != len(envelopes):
        raise ClaimedMeanwhileError(f"{len(envelopes) - len(rows)} events were handled meanwhile")


class ClaimedMeanwhileError(RuntimeError):
    """A concurrent delivery of the same event got there first."""

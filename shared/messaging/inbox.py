"""The inbox: a consumer's effects and the record that it handled the event commit together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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

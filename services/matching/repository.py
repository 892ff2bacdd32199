"""SQL of the matching service. Callers own the transaction."""

from __future__ import annotations

import asyncpg

_RECORD_RECEIVED = """
INSERT INTO received_events (event_type, count) VALUES ($1, 1)
ON CONFLICT (event_type) DO UPDATE SET count = received_events.count + 1
"""


async def record_received(conn: asyncpg.Connection, event_type: str) -> None:
    await conn.execute(_RECORD_RECEIVED, event_type)

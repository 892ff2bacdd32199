"""SQL of the calendar feeds. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

_GENERATION = "SELECT generation FROM feed_generations WHERE kind = $1 AND subject_id = $2"
_ENSURE = """
INSERT INTO feed_generations (kind, subject_id) VALUES ($1, $2)
ON CONFLICT (kind, subject_id) DO UPDATE SET generation = feed_generations.generation
RETURNING generation
"""
_REVOKE = """
INSERT INTO feed_generations (kind, subject_id, generation) VALUES ($1, $2, 2)
ON CONFLICT (kind, subject_id) DO UPDATE SET generation = feed_generations.generation + 1
RETURNING generation
"""
_SUBJECT = {
    "provider": "details->'attendees' @> jsonb_build_array(jsonb_build_object("
    "'party_kind', 'provider', 'party_id', $1::text))",
    "venue": "details->'place'->>'venue_id' = $1",
    "room": "details->'place'->>'room_id' = $1",
}
_MEETINGS = """
SELECT uid, sequence, status, details::text AS details FROM meetings
WHERE {subject} AND ends_at >= $2 ORDER BY starts_at LIMIT $3
"""


async def generation(conn: asyncpg.Connection, kind: str, subject_id: str) -> int | None:
    current: int | None = await conn.fetchval(_GENERATION, kind, subject_id)
    return current


async def current_generation(conn: asyncpg.Connection, kind: str, subject_id: str) -> int:
    current: int = await conn.fetchval(_ENSURE, kind, subject_id)
    return current


async def revoke(conn: asyncpg.Connection, kind: str, subject_id: str) -> int:
    current: int = await conn.fetchval(_REVOKE, kind, subject_id)
    return current


async def meetings(
    conn: asyncpg.Connection, kind: str, subject_id: str, since: datetime, limit: int = 2000
) -> list[dict[str, Any]]:
    query = _MEETINGS.format(subject=_SUBJECT[kind])
    return [dict(row) for row in await conn.fetch(query, subject_id, since, limit)]

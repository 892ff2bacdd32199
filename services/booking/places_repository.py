"""SQL for venues (with their rooms) and availability. Callers own the transaction."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

_VENUE_FOR_UPDATE = "SELECT doc::text AS doc FROM venues WHERE venue_id = $1 FOR UPDATE"
_VENUE = "SELECT doc::text AS doc FROM venues WHERE venue_id = $1"
_DELETE_VENUE = "DELETE FROM venues WHERE venue_id = $1 RETURNING venue_id"
_UPCOMING_AT_VENUE = """
SELECT count(*) FROM meetings
WHERE status = 'confirmed' AND ends_at > now() AND details->'place'->>'venue_id' = $1
"""
_UPSERT_AVAILABILITY = """
INSERT INTO availability (party_kind, party_id, doc) VALUES ($1, $2, $3::text::jsonb)
ON CONFLICT (party_kind, party_id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = now()
"""
_AVAILABILITY = "SELECT doc::text AS doc FROM availability WHERE party_kind = $1 AND party_id = $2"
_AVAILABILITY_OF_BOTH = """
SELECT party_kind, doc::text AS doc FROM availability
WHERE (party_kind = 'provider' AND party_id = $1) OR (party_kind = 'company' AND party_id = $2)
"""
_AVAILABILITY_OF_MANY = """
SELECT party_kind, party_id, doc::text AS doc FROM availability
WHERE (party_kind, party_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
"""
_DELETE_AVAILABILITY = """
DELETE FROM availability WHERE party_kind = $1 AND party_id = $2 RETURNING party_id
"""


async def venue(
    conn: asyncpg.Connection, venue_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    doc = await conn.fetchval(_VENUE_FOR_UPDATE if for_update else _VENUE, venue_id)
    return None if doc is None else dict(json.loads(doc))


async def delete_venue(conn: asyncpg.Connection, venue_id: str) -> bool:
    return await conn.fetchval(_DELETE_VENUE, venue_id) is not None


async def upcoming_meetings_at(conn: asyncpg.Connection, venue_id: str) -> int:
    count: int = await conn.fetchval(_UPCOMING_AT_VENUE, venue_id)
    return count


async def put_availability(
    conn: asyncpg.Connection, party_kind: str, party_id: str, doc: dict[str, Any]
) -> None:
    await conn.execute(_UPSERT_AVAILABILITY, party_kind, party_id, json.dumps(doc))


async def availability(
    conn: asyncpg.Connection, party_kind: str, party_id: str
) -> dict[str, Any] | None:
    doc = await conn.fetchval(_AVAILABILITY, party_kind, party_id)
    return None if doc is None else dict(json.loads(doc))


async def availability_of(
    conn: asyncpg.Connection, provider_id: str, company_id: str
) -> dict[str, dict[str, Any]]:
    """The stored availability of a provider and a company, by party kind; one round trip."""
    rows = await conn.fetch(_AVAILABILITY_OF_BOTH, provider_id, company_id)
    return {row["party_kind"]: json.loads(row["doc"]) for row in rows}


async def availability_of_many(
    conn: asyncpg.Connection, parties: list[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored availability of many (party kind, party id) pairs; one round trip."""
    rows = await conn.fetch(
        _AVAILABILITY_OF_MANY, [kind for kind, _ in parties], [party for _, party in parties]
    )
    return {(row["party_kind"], row["party_id"]): json.loads(row["doc"]) for row in rows}


async def delete_availability(conn: asyncpg.Connection, party_kind: str, party_id: str) -> bool:
    return await conn.fetchval(_DELETE_AVAILABILITY, party_kind, party_id) is not None

"""SQL of matching's privacy requests (erasure and export). Callers own the transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

_CONTACTS = """
SELECT 'company' AS kind, company_id AS party_id, c->>'contact_id' AS contact_id
FROM companies, jsonb_array_elements(doc->'contacts') AS c
WHERE ($1::text IS NOT NULL AND c->>'contact_id' = $1)
   OR ($2::text IS NOT NULL AND lower(c->>'email') = lower($2))
   OR company_id = $3
UNION ALL
SELECT 'provider', provider_id, c->>'contact_id'
FROM providers, jsonb_array_elements(doc->'contacts') AS c
WHERE ($1::text IS NOT NULL AND c->>'contact_id' = $1)
   OR ($2::text IS NOT NULL AND lower(c->>'email') = lower($2))
   OR provider_id = $4
"""
_INSERT_REQUEST = """
INSERT INTO erasure_requests (request_id, scope, contact_ids, party_ids, requested_by,
                              requested_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""
_CONFIRM = """
INSERT INTO erasure_confirmations (request_id, service, rows, streams, confirmed_at)
SELECT $1, $2, $3::text::jsonb, $4::text::jsonb, $5
WHERE EXISTS (SELECT 1 FROM erasure_requests WHERE request_id = $1)
ON CONFLICT (request_id, service) DO NOTHING
"""
_COMPLETE = """
UPDATE erasure_requests SET completed_at = $2
WHERE request_id = $1 AND completed_at IS NULL
  AND (SELECT count(*) FROM erasure_confirmations c WHERE c.request_id = $1
       AND c.service = ANY($3::text[])) = cardinality($3::text[])
"""
_REQUEST = """
SELECT request_id, scope, contact_ids, party_ids, requested_by, requested_at, completed_at
FROM erasure_requests WHERE request_id = $1
"""
_REQUESTS = """
SELECT request_id, scope, contact_ids, party_ids, requested_by, requested_at, completed_at
FROM erasure_requests ORDER BY requested_at DESC LIMIT $1
"""
_CONFIRMATIONS = """
SELECT request_id, service, rows::text AS rows, streams::text AS streams, confirmed_at
FROM erasure_confirmations WHERE request_id = ANY($1::text[]) ORDER BY confirmed_at
"""
_PARTY_NAMES = """
SELECT doc->>'name' FROM companies WHERE company_id = ANY($1::text[])
UNION ALL SELECT doc->>'name' FROM providers WHERE provider_id = ANY($1::text[])
"""
_ERASE_NEEDS = """
UPDATE needs SET doc = doc || jsonb_build_object('title', $2::text, 'description', $2::text),
    updated_at = now()
WHERE company_id = ANY($1::text[])
"""


async def contacts_of(
    conn: asyncpg.Connection,
    *,
    contact_id: str | None = None,
    email: str | None = None,
    company_id: str | None = None,
    provider_id: str | None = None,
) -> list[asyncpg.Record]:
    """(kind, party_id, contact_id) of the contacts a request names."""
    return list(await conn.fetch(_CONTACTS, contact_id, email, company_id, provider_id))


async def insert_request(
    conn: asyncpg.Connection,
    request_id: str,
    scope: str,
    contact_ids: list[str],
    party_ids: list[str],
    requested_by: str,
    requested_at: datetime,
) -> None:
    await conn.execute(
        _INSERT_REQUEST, request_id, scope, contact_ids, party_ids, requested_by, requested_at
    )


async def confirm(
    conn: asyncpg.Connection,
    request_id: str,
    service: str,
    rows: dict[str, int],
    streams: dict[str, int],
    at: datetime,
) -> None:
    await conn.execute(_CONFIRM, request_id, service, json.dumps(rows), json.dumps(streams), at)


async def complete_if_confirmed(
    conn: asyncpg.Connection, request_id: str, services: tuple[str, ...], at: datetime
) -> None:
    await conn.execute(_COMPLETE, request_id, at, list(services))


async def requests(
    conn: asyncpg.Connection, request_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    rows = (
        await conn.fetch(_REQUEST, request_id)
        if request_id is not None
        else await conn.fetch(_REQUESTS, limit)
    )
    found = [dict(row) for row in rows]
    confirmations = await conn.fetch(_CONFIRMATIONS, [r["request_id"] for r in found])
    for request in found:
        request["confirmations"] = [
            {
                "service": c["service"],
                "rows": json.loads(c["rows"]),
                "stream_messages_deleted": json.loads(c["streams"]),
                "confirmed_at": c["confirmed_at"],
            }
            for c in confirmations
            if c["request_id"] == request["request_id"]
        ]
    return found


async def party_names(conn: asyncpg.Connection, party_ids: list[str]) -> list[str]:
    return [row[0] for row in await conn.fetch(_PARTY_NAMES, party_ids) if row[0]]


async def erase_needs_of(conn: asyncpg.Connection, company_ids: list[str], marker: str) -> int:
    result: str = await conn.execute(_ERASE_NEEDS, company_ids, marker)
    return int(result.rsplit(maxsplit=1)[-1])

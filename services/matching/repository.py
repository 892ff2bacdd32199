"""SQL of the matching service. Callers own the transaction."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

_RECORD_RECEIVED = """
INSERT INTO received_events (event_type, count) VALUES ($1, 1)
ON CONFLICT (event_type) DO UPDATE SET count = received_events.count + 1
"""
_UPSERT_COMPANY = """
INSERT INTO companies (company_id, doc) VALUES ($1, $2::text::jsonb)
ON CONFLICT (company_id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = now()
RETURNING (xmax = 0) AS created
"""
_UPSERT_PROVIDER = """
INSERT INTO providers (provider_id, doc) VALUES ($1, $2::text::jsonb)
ON CONFLICT (provider_id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = now()
RETURNING (xmax = 0) AS created
"""
_UPSERT_NEED = """
INSERT INTO needs (need_id, company_id, doc) VALUES ($1, $2, $3::text::jsonb)
ON CONFLICT (need_id) DO UPDATE SET doc = EXCLUDED.doc, company_id = EXCLUDED.company_id,
    updated_at = now()
RETURNING (xmax = 0) AS created
"""
_ALL_PROVIDERS = "SELECT provider_id, doc::text AS doc, booked, quality FROM providers"
_COMPANY = "SELECT doc::text AS doc FROM companies WHERE company_id = $1"
_PROVIDER = "SELECT doc::text AS doc, booked, quality FROM providers WHERE provider_id = $1"
_NEED = "SELECT doc::text AS doc, company_id, status FROM needs WHERE need_id = $1"
_NEEDS = "SELECT need_id, company_id, doc::text AS doc, status FROM needs ORDER BY need_id"
_EXPOSURE = "SELECT provider_id, shown FROM exposure"
_SHOWN = """
INSERT INTO exposure (provider_id, shown) SELECT unnest($1::text[]), 1
ON CONFLICT (provider_id) DO UPDATE SET shown = exposure.shown + 1
"""
_INSERT_RUN = """
INSERT INTO runs (run_id, need_id, inputs_hash, weights, taxonomy_version, results, requested_by)
VALUES ($1, $2, $3, $4::text::jsonb, $5, $6::text::jsonb, $7)
"""
_INSERT_PROPOSAL = """
INSERT INTO proposals (proposal_id, run_id, need_id, provider_id, rank, score, breakdown)
VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)
"""
_LATEST_PROPOSALS = """
SELECT proposal_id, run_id, provider_id, rank, score, breakdown::text AS breakdown, status
FROM proposals WHERE need_id = $1
  AND run_id = (SELECT run_id FROM runs WHERE need_id = $1 ORDER BY created_at DESC LIMIT 1)
ORDER BY rank
"""
_PROPOSAL = """
SELECT proposal_id, run_id, need_id, provider_id, status FROM proposals WHERE proposal_id = $1
FOR UPDATE
"""
_DECIDE = "UPDATE proposals SET status = $2, decided_at = now() WHERE proposal_id = $1"
_NEED_STATUS = "UPDATE needs SET status = $2, updated_at = now() WHERE need_id = $1"
_BOOK_PROVIDER = "UPDATE providers SET booked = booked + 1 WHERE provider_id = $1"
_RUNS = """
SELECT run_id, need_id, inputs_hash, weights::text AS weights, taxonomy_version,
       results::text AS results, requested_by, created_at
FROM runs ORDER BY created_at DESC LIMIT $1
"""
_RATE = """
UPDATE providers
SET quality = (quality * (ratings + 2) + $2) / (ratings + 3), ratings = ratings + 1
WHERE provider_id = $1
"""


async def record_received(conn: asyncpg.Connection, event_type: str) -> None:
    await conn.execute(_RECORD_RECEIVED, event_type)


async def upsert_company(conn: asyncpg.Connection, company_id: str, doc: dict[str, Any]) -> bool:
    return bool(await conn.fetchval(_UPSERT_COMPANY, company_id, json.dumps(doc)))


async def upsert_provider(conn: asyncpg.Connection, provider_id: str, doc: dict[str, Any]) -> bool:
    return bool(await conn.fetchval(_UPSERT_PROVIDER, provider_id, json.dumps(doc)))


async def upsert_need(
    conn: asyncpg.Connection, need_id: str, company_id: str, doc: dict[str, Any]
) -> bool:
    return bool(await conn.fetchval(_UPSERT_NEED, need_id, company_id, json.dumps(doc)))


async def company(conn: asyncpg.Connection, company_id: str) -> dict[str, Any] | None:
    raw = await conn.fetchval(_COMPANY, company_id)
    return json.loads(raw) if raw else None


async def provider(conn: asyncpg.Connection, provider_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_PROVIDER, provider_id)
    if row is None:
        return None
    return {**json.loads(row["doc"]), "booked": row["booked"], "quality": row["quality"]}


async def providers(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(_ALL_PROVIDERS)
    return [{**json.loads(r["doc"]), "booked": r["booked"], "quality": r["quality"]} for r in rows]


async def need(conn: asyncpg.Connection, need_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_NEED, need_id)
    if row is None:
        return None
    return {**json.loads(row["doc"]), "company_id": row["company_id"], "status": row["status"]}


async def needs(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(_NEEDS)
    return [
        {**json.loads(r["doc"]), "company_id": r["company_id"], "status": r["status"]} for r in rows
    ]


async def exposure(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["provider_id"]: r["shown"] for r in await conn.fetch(_EXPOSURE)}


async def record_shown(conn: asyncpg.Connection, provider_ids: list[str]) -> None:
    await conn.execute(_SHOWN, provider_ids)


async def insert_run(conn: asyncpg.Connection, run: dict[str, Any]) -> None:
    await conn.execute(
        _INSERT_RUN,
        run["run_id"],
        run["need_id"],
        run["inputs_hash"],
        json.dumps(run["weights"]),
        run["taxonomy_version"],
        json.dumps(run["results"]),
        run["requested_by"],
    )


async def insert_proposal(conn: asyncpg.Connection, proposal: dict[str, Any]) -> None:
    await conn.execute(
        _INSERT_PROPOSAL,
        proposal["proposal_id"],
        proposal["run_id"],
        proposal["need_id"],
        proposal["provider_id"],
        proposal["rank"],
        proposal["score"],
        json.dumps(proposal["breakdown"]),
    )


async def latest_proposals(conn: asyncpg.Connection, need_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(_LATEST_PROPOSALS, need_id)
    return [{**dict(r), "breakdown": json.loads(r["breakdown"])} for r in rows]


async def lock_proposal(conn: asyncpg.Connection, proposal_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_PROPOSAL, proposal_id)
    return dict(row) if row else None


async def decide(conn: asyncpg.Connection, proposal_id: str, status: str) -> None:
    await conn.execute(_DECIDE, proposal_id, status)


async def set_need_status(conn: asyncpg.Connection, need_id: str, status: str) -> None:
    await conn.execute(_NEED_STATUS, need_id, status)


async def book_provider(conn: asyncpg.Connection, provider_id: str) -> None:
    await conn.execute(_BOOK_PROVIDER, provider_id)


async def runs(conn: asyncpg.Connection, limit: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(_RUNS, limit)
    return [
        {**dict(r), "weights": json.loads(r["weights"]), "results": json.loads(r["results"])}
        for r in rows
    ]


async def rate_provider(conn: asyncpg.Connection, provider_id: str, value: float) -> None:
    await conn.execute(_RATE, provider_id, value)

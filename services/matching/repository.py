"""SQL of the matching service. Callers own the transaction."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.matching import profile_events
from services.matching.domain.scoring import BandSeat, Exposure

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
_ALL_PROVIDERS = "SELECT provider_id, doc::text AS doc, booked, quality, ratings FROM providers"
_COMPANY = "SELECT doc::text AS doc FROM companies WHERE company_id = $1"
_PROVIDER = (
    "SELECT doc::text AS doc, booked, quality, ratings FROM providers WHERE provider_id = $1"
)
_NEED = "SELECT doc::text AS doc, company_id, status FROM needs WHERE need_id = $1"
# Rows in a fixed order (by band, then provider), so concurrent runs never lock them crosswise.
_SHOWN = """
INSERT INTO band_exposure (band, provider_id, firsts, attention)
SELECT shown.band, shown.provider_id, shown.firsts, shown.attention
FROM unnest($1::text[], $2::text[], $3::int8[], $4::float8[])
     AS shown (band, provider_id, firsts, attention)
ORDER BY shown.band, shown.provider_id
ON CONFLICT (band, provider_id) DO UPDATE
SET firsts = band_exposure.firsts + EXCLUDED.firsts,
    attention = band_exposure.attention + EXCLUDED.attention
"""
_EXPOSURE_OF = """
SELECT e.band, e.provider_id, e.firsts, e.attention
FROM band_exposure e JOIN unnest($1::text[], $2::text[]) AS seat (band, provider_id)
  ON e.band = seat.band AND e.provider_id = seat.provider_id
"""
_INSERT_RUN = """
INSERT INTO runs (run_id, need_id, inputs_hash, weights, taxonomy_version, results, requested_by,
                  kind, inputs)
VALUES ($1, $2, $3, $4::text::jsonb, $5, $6::text::jsonb, $7, $8, $9::text::jsonb)
"""
_INSERT_PROPOSAL = """
INSERT INTO proposals (proposal_id, run_id, need_id, provider_id, rank, score, breakdown, tie)
VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb)
"""
_LATEST_PROPOSALS = """
SELECT proposal_id, run_id, provider_id, rank, score, breakdown::text AS breakdown,
       tie::text AS tie, status
FROM proposals WHERE need_id = $1
  AND run_id = (SELECT p.run_id FROM proposals p JOIN runs r USING (run_id)
                WHERE p.need_id = $1 ORDER BY r.created_at DESC LIMIT 1)
ORDER BY rank
"""
_PROPOSAL = """
SELECT proposal_id, run_id, need_id, provider_id, status FROM proposals WHERE proposal_id = $1
FOR UPDATE
"""
_DECIDE = "UPDATE proposals SET status = $2, decided_at = now() WHERE proposal_id = $1"
_NEED_STATUS = "UPDATE needs SET status = $2, updated_at = now() WHERE need_id = $1"
_BOOK_PROVIDER = "UPDATE providers SET booked = booked + 1 WHERE provider_id = $1"
_RELEASE_PROVIDER = (
    "UPDATE providers SET booked = greatest(booked - 1, 0) WHERE provider_id = $1 AND booked > 0"
)
_RUNS = """
SELECT run_id, kind, need_id, inputs_hash, weights::text AS weights, taxonomy_version,
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
    created = bool(await conn.fetchval(_UPSERT_COMPANY, company_id, json.dumps(doc)))
    await profile_events.company_saved(conn, company_id, doc, created=created)
    return created


async def upsert_provider(conn: asyncpg.Connection, provider_id: str, doc: dict[str, Any]) -> bool:
    created = bool(await conn.fetchval(_UPSERT_PROVIDER, provider_id, json.dumps(doc)))
    await profile_events.provider_saved(conn, provider_id, doc, created=created)
    return created


async def upsert_need(
    conn: asyncpg.Connection, need_id: str, company_id: str, doc: dict[str, Any]
) -> bool:
    created = bool(await conn.fetchval(_UPSERT_NEED, need_id, company_id, json.dumps(doc)))
    await profile_events.need_saved(conn, need_id, company_id, doc, created=created)
    return created


async def company(conn: asyncpg.Connection, company_id: str) -> dict[str, Any] | None:
    raw = await conn.fetchval(_COMPANY, company_id)
    return json.loads(raw) if raw else None


async def provider(conn: asyncpg.Connection, provider_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_PROVIDER, provider_id)
    if row is None:
        return None
    return {
        **json.loads(row["doc"]),
        "booked": row["booked"],
        "quality": row["quality"],
        "ratings": row["ratings"],
    }


async def provider_snapshot(conn: asyncpg.Connection) -> tuple[list[dict[str, Any]], int]:
    """Every provider row and the change-log position they reflect; call in one snapshot."""
    seq: int = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM provider_changes")
    rows = await conn.fetch(_ALL_PROVIDERS)
    return [
        {
            "doc": json.loads(r["doc"]),
            "booked": r["booked"],
            "quality": r["quality"],
            "ratings": r["ratings"],
        }
        for r in rows
    ], seq


async def need(conn: asyncpg.Connection, need_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_NEED, need_id)
    if row is None:
        return None
    return {**json.loads(row["doc"]), "company_id": row["company_id"], "status": row["status"]}


async def record_shown(conn: asyncpg.Connection, gained: dict[BandSeat, Exposure]) -> None:
    """Add what each tied provider gained in one run to its band's exposure ledger."""
    seats = sorted(gained)
    await conn.execute(
        _SHOWN,
        [band for band, _ in seats],
        [provider_id for _, provider_id in seats],
        [gained[seat].firsts for seat in seats],
        [gained[seat].attention for seat in seats],
    )


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
        run.get("kind", "single"),
        json.dumps(run.get("inputs")),
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
        json.dumps(proposal["tie"]) if proposal.get("tie") else None,
    )


async def latest_proposals(conn: asyncpg.Connection, need_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(_LATEST_PROPOSALS, need_id)
    return [
        {
            **dict(r),
            "breakdown": json.loads(r["breakdown"]),
            "tie": json.loads(r["tie"]) if r["tie"] else None,
        }
        for r in rows
    ]


async def lock_proposal(conn: asyncpg.Connection, proposal_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_PROPOSAL, proposal_id)
    return dict(row) if row else None


async def decide(conn: asyncpg.Connection, proposal_id: str, status: str) -> None:
    await conn.execute(_DECIDE, proposal_id, status)


async def set_need_status(conn: asyncpg.Connection, need_id: str, status: str) -> None:
    await conn.execute(_NEED_STATUS, need_id, status)


async def book_provider(conn: asyncpg.Connection, provider_id: str) -> None:
    await conn.execute(_BOOK_PROVIDER, provider_id)


async def release_provider(conn: asyncpg.Connection, provider_id: str) -> None:
    await conn.execute(_RELEASE_PROVIDER, provider_id)


async def runs(conn: asyncpg.Connection, limit: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(_RUNS, limit)
    return [
        {**dict(r), "weights": json.loads(r["weights"]), "results": json.loads(r["results"])}
        for r in rows
    ]


async def rate_provider(conn: asyncpg.Connection, provider_id: str, value: float) -> None:
    await conn.execute(_RATE, provider_id, value)


_CHANGES_SINCE = """
SELECT seq, provider_id, row::text AS row FROM provider_changes WHERE seq > $1 ORDER BY seq
"""
_PROVIDERS_AS_OF = """
SELECT DISTINCT ON (provider_id) provider_id, row::text AS row FROM provider_changes
WHERE seq <= $1 ORDER BY provider_id, seq DESC
"""
_RUN = """
SELECT run_id, kind, need_id, inputs_hash, weights::text AS weights, taxonomy_version,
       results::text AS results, inputs::text AS inputs, requested_by, created_at
FROM runs WHERE run_id = $1
"""


async def changes_since(conn: asyncpg.Connection, seq: int) -> list[tuple[int, str, Any]]:
    rows = await conn.fetch(_CHANGES_SINCE, seq)
    return [(r["seq"], r["provider_id"], json.loads(r["row"]) if r["row"] else None) for r in rows]


async def providers_as_of(conn: asyncpg.Connection, seq: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(_PROVIDERS_AS_OF, seq)
    return [json.loads(r["row"]) for r in rows if r["row"] is not None]


async def run(conn: asyncpg.Connection, run_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_RUN, run_id)
    if row is None:
        return None
    return {
        **dict(row),
        "weights": json.loads(row["weights"]),
        "results": json.loads(row["results"]),
        "inputs": json.loads(row["inputs"]) if row["inputs"] else None,
    }


async def exposure_of(conn: asyncpg.Connection, seats: list[BandSeat]) -> dict[BandSeat, Exposure]:
    rows = await conn.fetch(
        _EXPOSURE_OF, [band for band, _ in seats], [provider_id for _, provider_id in seats]
    )
    return {(r["band"], r["provider_id"]): Exposure(r["firsts"], r["attention"]) for r in rows}


async def overrides(
    conn: asyncpg.Connection, need_ids: list[str] | None = None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT need_id, provider_id, kind, reason, created_by, created_at FROM overrides "
        "WHERE $1::text[] IS NULL OR need_id = ANY($1::text[]) ORDER BY need_id, provider_id",
        need_ids,
    )
    return [dict(r) for r in rows]


async def put_override(
    conn: asyncpg.Connection, need_id: str, provider_id: str, kind: str, reason: str, by: str
) -> None:
    await conn.execute(
        "INSERT INTO overrides (need_id, provider_id, kind, reason, created_by) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (need_id, provider_id) DO UPDATE "
        "SET kind = EXCLUDED.kind, reason = EXCLUDED.reason, created_by = EXCLUDED.created_by, "
        "created_at = now()",
        need_id,
        provider_id,
        kind,
        reason,
        by,
    )


async def delete_override(conn: asyncpg.Connection, need_id: str, provider_id: str) -> bool:
    status: str = await conn.execute(
        "DELETE FROM overrides WHERE need_id = $1 AND provider_id = $2", need_id, provider_id
    )
    return status.endswith(" 1")


async def delete_row(conn: asyncpg.Connection, table: str, key: str, value: str) -> bool:
    assert (table, key) in {
        ("companies", "company_id"),
        ("providers", "provider_id"),
        ("needs", "need_id"),
    }
    status: str = await conn.execute(f"DELETE FROM {table} WHERE {key} = $1", value)
    return status.endswith(" 1")


async def needs_of_company(conn: asyncpg.Connection, company_id: str) -> list[str]:
    rows = await conn.fetch("SELECT need_id FROM needs WHERE company_id = $1", company_id)
    return [r["need_id"] for r in rows]


async def open_needs(conn: asyncpg.Connection, need_ids: list[str] | None) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT n.need_id, n.doc::text AS doc, c.doc::text AS company FROM needs n "
        "JOIN companies c USING (company_id) WHERE n.status = 'open' "
        "AND ($1::text[] IS NULL OR n.need_id = ANY($1::text[])) ORDER BY n.need_id",
        need_ids,
    )
    return [
        {"need_id": r["need_id"], "doc": json.loads(r["doc"]), "company": json.loads(r["company"])}
        for r in rows
    ]


async def save_taxonomy(conn: asyncpg.Connection, version: str, doc: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO taxonomies (version, doc) VALUES ($1, $2::text::jsonb) "
        "ON CONFLICT (version) DO NOTHING",
        version,
        json.dumps(doc),
    )


async def taxonomy(conn: asyncpg.Connection, version: str) -> dict[str, Any] | None:
    value = await conn.fetchval("SELECT doc::text FROM taxonomies WHERE version = $1", version)
    return json.loads(value) if value else None


# -- lists for staff: filters and keyset pagination (by id, ascending) -------------------------

_COMPANIES_PAGE = """
SELECT company_id, doc::text AS doc, updated_at FROM companies
WHERE company_id > $1
  AND ($2::text IS NULL OR doc->>'postcode' = $2)
  AND ($3::text IS NULL OR doc->'languages' ? $3)
ORDER BY company_id LIMIT $4
"""
_PROVIDERS_PAGE = """
SELECT provider_id, doc::text AS doc, booked, quality, ratings, updated_at FROM providers
WHERE provider_id > $1
  AND ($2::text IS NULL OR doc->'categories' ? $2)
  AND ($3::text IS NULL OR coalesce(doc->>'kind', 'it_provider') = $3)
  AND ($4::text IS NULL OR doc->'languages' ? $4)
  AND ($5::text IS NULL OR doc->'service_types' ? $5)
ORDER BY provider_id LIMIT $6
"""
_NEEDS_PAGE = """
SELECT need_id, company_id, doc::text AS doc, status, updated_at FROM needs
WHERE need_id > $1
  AND ($2::text IS NULL OR status = $2)
  AND ($3::text IS NULL OR company_id = $3)
  AND ($4::text IS NULL OR doc->'categories' ? $4)
  AND ($5::text IS NULL OR doc->>'service_type' = $5)
ORDER BY need_id LIMIT $6
"""


async def companies_page(
    conn: asyncpg.Connection, after: str, limit: int, postcode: str | None, language: str | None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(_COMPANIES_PAGE, after, postcode, language, limit)
    return [
        {"company_id": r["company_id"], **json.loads(r["doc"]), "updated_at": r["updated_at"]}
        for r in rows
    ]


async def providers_page(
    conn: asyncpg.Connection, after: str, limit: int, filters: dict[str, str | None]
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        _PROVIDERS_PAGE,
        after,
        filters.get("category"),
        filters.get("kind"),
        filters.get("language"),
        filters.get("service_type"),
        limit,
    )
    return [_provider_row(r) for r in rows]


def _provider_row(r: asyncpg.Record) -> dict[str, Any]:
    return {
        **json.loads(r["doc"]),
        "booked": r["booked"],
        "quality": r["quality"],
        "ratings": r["ratings"],
        "updated_at": r["updated_at"],
    }


async def needs_page(
    conn: asyncpg.Connection, after: str, limit: int, filters: dict[str, str | None]
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        _NEEDS_PAGE,
        after,
        filters.get("status"),
        filters.get("company_id"),
        filters.get("category"),
        filters.get("service_type"),
        limit,
    )
    return [
        {
            "need_id": r["need_id"],
            **json.loads(r["doc"]),
            "company_id": r["company_id"],
            "status": r["status"],
            "updated_at": r["updated_at"],
        }
        for r in rows
    ]


async def need_exists(conn: asyncpg.Connection, need_id: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM needs WHERE need_id = $1", need_id))


# -- batch jobs --------------------------------------------------------------------------------

_BATCH_JOB = """
SELECT job_id, status, done, total, request::text AS request, result::text AS result, error,
       run_id, requested_by, created_at, updated_at, lease_owner, attempts
FROM batch_jobs WHERE job_id = $1
"""


async def insert_batch_job(
    conn: asyncpg.Connection, job_id: str, request: dict[str, Any], total: int, by: str
) -> None:
    await conn.execute(
        "INSERT INTO batch_jobs (job_id, status, total, request, requested_by) "
        "VALUES ($1, 'queued', $2, $3::text::jsonb, $4)",
        job_id,
        total,
        json.dumps(request),
        by,
    )


async def batch_job(conn: asyncpg.Connection, job_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_BATCH_JOB, job_id)
    if row is None:
        return None
    return {
        **dict(row),
        "request": json.loads(row["request"]),
        "result": json.loads(row["result"]) if row["result"] else None,
    }


_CLAIM_BATCH_JOB = """
UPDATE batch_jobs SET status = 'running', lease_owner = $1,
       lease_expires_at = now() + make_interval(secs => $2), attempts = attempts + 1,
       done = 0, updated_at = now()
WHERE job_id = (
    SELECT job_id FROM batch_jobs
    WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < now())
    ORDER BY created_at LIMIT 1
    FOR UPDATE SKIP LOCKED)
RETURNING job_id, request::text AS request, attempts
"""
# Jobs whose runner died for good: a cancel nobody carried out, or too many claims.
_ABANDONED_BATCH_JOBS = """
UPDATE batch_jobs SET updated_at = now(),
       status = CASE WHEN status = 'cancelling' THEN 'cancelled' ELSE 'failed' END,
       error = CASE WHEN status = 'cancelling' THEN error
               ELSE format('the runner stopped %s times before finishing', attempts) END
WHERE lease_expires_at < now()
  AND (status = 'cancelling' OR (status = 'running' AND attempts >= $1))
"""


async def claim_batch_job(
    conn: asyncpg.Connection, owner: str, lease_seconds: float, max_attempts: int
) -> dict[str, Any] | None:
    """Take the oldest queued job, or one whose runner's lease ran out, under a fresh lease."""
    await conn.execute(_ABANDONED_BATCH_JOBS, max_attempts)
    row = await conn.fetchrow(_CLAIM_BATCH_JOB, owner, lease_seconds)
    if row is None:
        return None
    return {**dict(row), "request": json.loads(row["request"])}


async def renew_batch_lease(
    conn: asyncpg.Connection, job_id: str, owner: str, done: int, lease_seconds: float
) -> str | None:
    """The heartbeat: progress and a longer lease. The job's status while ``owner`` still holds
    it (so a cancel is noticed), None once another runner took it over."""
    status: str | None = await conn.fetchval(
        "UPDATE batch_jobs SET done = $3, updated_at = now(), "
        "lease_expires_at = now() + make_interval(secs => $4) "
        "WHERE job_id = $1 AND lease_owner = $2 AND status IN ('running', 'cancelling') "
        "RETURNING status",
        job_id,
        owner,
        done,
        lease_seconds,
    )
    return status


async def settle_batch_job(
    conn: asyncpg.Connection,
    job_id: str,
    owner: str,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> str | None:
    """End a job as its lease holder; a job cancelled meanwhile ends cancelled. The status it
    ended with, or None when ``owner`` no longer holds it (another runner finishes it)."""
    final: str | None = await conn.fetchval(
        "UPDATE batch_jobs SET updated_at = now(), lease_expires_at = NULL, "
        "status = CASE WHEN status = 'cancelling' THEN 'cancelled' ELSE $3 END, "
        "result = CASE WHEN status = 'cancelling' THEN NULL ELSE $4::text::jsonb END, "
        "error = $5, done = CASE WHEN $3 = 'ready' THEN total ELSE done END "
        "WHERE job_id = $1 AND lease_owner = $2 AND status IN ('running', 'cancelling') "
        "RETURNING status",
        job_id,
        owner,
        status,
        json.dumps(result) if result is not None else None,
        error,
    )
    return final


async def release_batch_job(conn: asyncpg.Connection, job_id: str, owner: str) -> None:
    """A runner that stops hands its job back at once, instead of letting the lease run out."""
    await conn.execute(
        "UPDATE batch_jobs SET updated_at = now(), lease_owner = NULL, lease_expires_at = NULL, "
        "done = 0, status = CASE WHEN status = 'cancelling' THEN 'cancelled' ELSE 'queued' END "
        "WHERE job_id = $1 AND lease_owner = $2 AND status IN ('running', 'cancelling')",
        job_id,
        owner,
    )


async def finish_batch_job(
    conn: asyncpg.Connection,
    job_id: str,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    run_id: str | None = None,
) -> None:
    await conn.execute(
        "UPDATE batch_jobs SET status = $2, result = coalesce($3::text::jsonb, result), "
        "error = $4, run_id = coalesce($5, run_id), updated_at = now(), "
        "done = CASE WHEN $2 = 'ready' THEN total ELSE done END WHERE job_id = $1",
        job_id,
        status,
        json.dumps(result) if result is not None else None,
        error,
        run_id,
    )


async def lock_batch_job(conn: asyncpg.Connection, job_id: str) -> str | None:
    status: str | None = await conn.fetchval(
        "SELECT status FROM batch_jobs WHERE job_id = $1 FOR UPDATE", job_id
    )
    return status

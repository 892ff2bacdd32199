"""Batch allocation as a background job, so the API's event loop stays free for probes and
consumers.

``start`` records a queued job with what it will compute; a runner (``batch_runner``: the
matching worker, or the API replica itself when no worker is configured) claims it and computes
it in a child process. Staff read the result as a preview (``GET /batch/{job_id}``) and
``commit`` it: only then are the run, the proposals and their events written. Any replica
answers for any job.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.matching import repository
from services.matching.domain.model import Taxonomy
from services.matching.service import (
    ConflictError,
    LiveIndex,
    NotFoundError,
    Policy,
    explain,
    inputs_hash,
    new_proposal,
    propose,
    refresh,
    to_need,
)


async def start(
    conn: asyncpg.Connection,
    taxonomy: Taxonomy,
    live: LiveIndex,
    policy: Policy,
    need_ids: list[str] | None,
    options_per_need: int,
    requested_by: str,
) -> tuple[str, int]:
    """Queue a job with everything a runner needs to compute it the same way: the open needs,
    pins and blocks now, the provider change-log position, the policy and taxonomy version."""
    seq = await refresh(conn, live)
    rows = await repository.open_needs(conn, need_ids)
    overrides = await repository.overrides(conn, [r["need_id"] for r in rows])
    blocks: dict[str, set[str]] = {}
    pins: dict[str, str] = {}
    for override in overrides:
        if override["kind"] == "block":
            blocks.setdefault(override["need_id"], set()).add(override["provider_id"])
        else:
            pins[override["need_id"]] = override["provider_id"]
    job_id = f"batch-{uuid.uuid4().hex[:12]}"
    request = {
        "need_ids": [r["need_id"] for r in rows],
        "pins": pins,
        "blocks": {k: sorted(v) for k, v in blocks.items()},
        "provider_seq": seq,
        "options_per_need": options_per_need,
        "weights": policy.weights,
        "tolerance": policy.tolerance,
        "taxonomy_version": taxonomy.version,
    }
    await repository.insert_batch_job(conn, job_id, request, len(rows), requested_by)
    return job_id, len(rows)


async def cancel(conn: asyncpg.Connection, job_id: str) -> str:
    status = await repository.lock_batch_job(conn, job_id)
    if status is None:
        raise NotFoundError(f"batch job {job_id} not found")
    if status == "running":  # its runner notices at the next heartbeat
        await repository.finish_batch_job(conn, job_id, "cancelling")
        return "cancelling"
    if status in {"queued", "ready"}:  # not started yet, or a preview staff discard
        await repository.finish_batch_job(conn, job_id, "cancelled")
        return "cancelled"
    raise ConflictError(f"batch job {job_id} is already {status}")


async def commit(
    conn: asyncpg.Connection,
    job_id: str,
    taxonomy: Taxonomy,
    live: LiveIndex,
    policy: Policy,
    committed_by: str,
) -> dict[str, Any]:
    """Turn a previewed result into a recorded run with explained proposals and their events."""
    status = await repository.lock_batch_job(conn, job_id)
    if status is None:
        raise NotFoundError(f"batch job {job_id} not found")
    if status != "ready":
        raise ConflictError(f"batch job {job_id} is {status}, not ready to commit")
    job = await repository.batch_job(conn, job_id)
    assert job is not None
    request, result = job["request"], job["result"]
    run_id = f"batch-run-{uuid.uuid4().hex[:12]}"
    inputs = {k: request[k] for k in ("need_ids", "pins", "provider_seq")}
    await repository.insert_run(
        conn,
        {
            "run_id": run_id,
            "need_id": None,
            "kind": "batch",
            "inputs_hash": inputs_hash(inputs),
            "weights": policy.weights,
            "taxonomy_version": taxonomy.version,
            "results": {
                "assignments": [
                    [a["need_id"], a["provider_id"], a["score"]] for a in result["assignments"]
                ],
                "unassigned": {u["need_id"]: u["reason"] for u in result["unassigned"]},
                "objective": result["objective"],
            },
            "requested_by": committed_by,
            "inputs": inputs,
        },
    )
    rows = {r["need_id"]: r for r in await repository.open_needs(conn, request["need_ids"])}
    for assignment in result["assignments"]:
        row = rows.get(assignment["need_id"])
        provider = live.index.get(assignment["provider_id"])
        if row is None or provider is None:  # matched or removed since the preview
            continue
        need = to_need(row["need_id"], row["doc"], row["company"])
        scored = explain(need, provider, live, policy, assignment["text"])
        proposal = new_proposal(run_id, need.need_id, 1, scored)
        await propose(conn, run_id, need, taxonomy, [proposal], policy)
    await repository.finish_batch_job(conn, job_id, "committed", run_id=run_id)
    return {
        "job_id": job_id,
        "run_id": run_id,
        "assigned": len(result["assignments"]),
        "assignments": result["assignments"],
        "unassigned": result["unassigned"],
        "objective": result["objective"],
    }

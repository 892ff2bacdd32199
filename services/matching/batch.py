"""Batch allocation as a background job, so the event loop stays free for probes and consumers.

``start`` reads the open needs, pins and blocks and the replica's providers, records the job and
hands the heavy part (``batch_worker.compute``: scoring and the LP) to a worker process. A
supervising task on this replica writes progress to the job row and watches for a cancel.
Staff read the result as a preview (``GET /batch/{job_id}``) and ``commit`` it: only then are
the run, the proposals and their events written. Any replica answers for any job.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import uuid
from typing import Any

import asyncpg

from services.matching import repository
from services.matching.batch_worker import BatchInputs, run_child
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

POLL_SECONDS = 0.25
SPAWN = multiprocessing.get_context("spawn")  # no fork of a process with threads and sockets


async def start(
    conn: asyncpg.Connection,
    taxonomy: Taxonomy,
    live: LiveIndex,
    policy: Policy,
    need_ids: list[str] | None,
    options_per_need: int,
    requested_by: str,
) -> tuple[str, BatchInputs]:
    """Record a queued job and what it will compute; the caller runs it after commit."""
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
    needs = [to_need(r["need_id"], r["doc"], r["company"]) for r in rows]
    job_id = f"batch-{uuid.uuid4().hex[:12]}"
    request = {
        "need_ids": [n.need_id for n in needs],
        "pins": pins,
        "blocks": {k: sorted(v) for k, v in blocks.items()},
        "provider_seq": seq,
        "options_per_need": options_per_need,
    }
    await repository.insert_batch_job(conn, job_id, request, len(needs), requested_by)
    inputs = BatchInputs(
        taxonomy=taxonomy,
        providers=live.index.providers(),
        needs=needs,
        blocks={k: frozenset(v) for k, v in blocks.items()},
        pins=pins,
        weights=policy.weights,
        tolerance=policy.tolerance,
        options_per_need=options_per_need,
    )
    return job_id, inputs


async def supervise(pool: asyncpg.Pool, job_id: str, inputs: BatchInputs) -> None:
    """Run the job in a worker process; record progress, the result, a failure or a cancel."""
    messages = SPAWN.Queue()
    worker = SPAWN.Process(target=run_child, args=(inputs, messages), daemon=True)
    await asyncio.to_thread(worker.start)
    try:
        await _follow(pool, job_id, worker, messages)
    finally:
        if worker.is_alive():
            worker.terminate()
        await asyncio.to_thread(worker.join, 5)


async def _follow(
    pool: asyncpg.Pool, job_id: str, worker: Any, messages: multiprocessing.Queue[Any]
) -> None:
    done = 0
    while True:
        final = None
        while final is None:
            try:
                kind, value = messages.get_nowait()
            except queue.Empty:
                break
            if kind == "progress":
                done = value
            else:
                final = (kind, value)
        async with pool.acquire() as conn:
            if final is not None:
                kind, value = final
                if kind == "done":
                    await repository.finish_batch_job(conn, job_id, "ready", result=value)
                else:
                    await repository.finish_batch_job(conn, job_id, "failed", error=value)
                return
            status = await repository.batch_progress(conn, job_id, done)
            if status == "cancelling":
                worker.terminate()
                await repository.finish_batch_job(conn, job_id, "cancelled")
                return
            if not worker.is_alive() and messages.empty():
                error = f"the worker process ended with exit code {worker.exitcode}"
                await repository.finish_batch_job(conn, job_id, "failed", error=error)
                return
        await asyncio.sleep(POLL_SECONDS)


async def cancel(conn: asyncpg.Connection, job_id: str) -> str:
    status = await repository.lock_batch_job(conn, job_id)
    if status is None:
        raise NotFoundError(f"batch job {job_id} not found")
    if status in {"queued", "running"}:
        await repository.finish_batch_job(conn, job_id, "cancelling")
        return "cancelling"
    if status == "ready":  # a preview staff discard
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

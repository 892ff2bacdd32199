"""Runs queued batch jobs: claims one under a lease, computes it in a child process and keeps the
lease alive with a heartbeat while the child works.

A runner is the matching worker (``werkbank-matching worker``, its own Deployment) or, when no
worker is configured (``MATCHING_BATCH_IN_API``, the embedded stack), a background task of each
API replica. When a runner dies its lease runs out and another runner claims the job again; only
the lease holder can end a job (``repository.settle_batch_job``), so every job ends once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import queue
import resource
import socket
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from prometheus_client import Counter, Gauge

from services.matching import repository
from services.matching.batch_worker import BatchInputs, run_child
from services.matching.domain.model import Taxonomy
from services.matching.service import to_need, to_provider
from services.matching.settings import MatchingSettings
from shared.db import transaction

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25  # how often the child's messages are read
SPAWN = multiprocessing.get_context("spawn")  # no fork of a process with threads and sockets

JOBS_ENDED = Counter(
    "werkbank_matching_batch_jobs_ended_total",
    "Batch jobs this runner ended, by how they ended",
    ["status"],
)
CHILD_PEAK_RSS = Gauge(
    "werkbank_matching_batch_child_peak_rss_bytes",
    "The highest peak memory of any batch child process of this runner so far",
)
JOBS_LOST = Counter(
    "werkbank_matching_batch_jobs_lost_total",
    "Batch jobs this runner gave up because another runner took them over (its lease ran out)",
)


@dataclass(frozen=True)
class Lease:
    seconds: float
    max_attempts: int
    poll_seconds: float

    @property
    def heartbeat_seconds(self) -> float:
        return self.seconds / 5  # four heartbeats may fail before another runner takes over

    @classmethod
    def of(cls, settings: MatchingSettings) -> Lease:
        return cls(
            seconds=settings.batch_lease_seconds,
            max_attempts=settings.batch_max_attempts,
            poll_seconds=settings.batch_poll_seconds,
        )


def runner_id() -> str:
    """Names the lease holder: the pod (host name), the process and this start of it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def run_jobs(pool: asyncpg.Pool, lease: Lease, owner: str) -> None:
    """Claim and run jobs one after another until cancelled."""
    while True:
        try:
            ran = await run_next(pool, lease, owner)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("batch runner failed; trying again", extra={"runner": owner})
            ran = False
        if not ran:
            await asyncio.sleep(lease.poll_seconds)


async def run_next(pool: asyncpg.Pool, lease: Lease, owner: str) -> bool:
    """Run the next claimable job to its end; False when there was none."""
    async with transaction(pool) as conn:
        claimed = await repository.claim_batch_job(conn, owner, lease.seconds, lease.max_attempts)
    if claimed is None:
        return False
    job = Claimed(claimed["job_id"], owner)
    log.info("batch job claimed", extra={"job_id": job.job_id, "attempt": claimed["attempts"]})
    work = asyncio.create_task(_work(pool, job, claimed["request"]))
    beat = asyncio.create_task(_keep_lease(pool, job, lease))
    try:
        await asyncio.wait({work, beat}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        # The runner stops (SIGTERM): hand the job back now rather than when the lease runs out.
        await _stop(work, beat)
        async with transaction(pool) as conn:
            await repository.release_batch_job(conn, job.job_id, owner)
        log.info("batch job handed back", extra={"job_id": job.job_id})
        raise
    if work.done() or job.ended:  # the heartbeat may notice the end before the work returns
        await _stop(beat)
        await work  # its errors are the runner's
        return True
    await _stop(work)  # the heartbeat ended: staff cancelled, or another runner has the job
    if beat.result() == "cancelling":
        await _settle(pool, job, "cancelled")
    else:
        JOBS_LOST.inc()
        log.warning("batch job taken over by another runner", extra={"job_id": job.job_id})
    return True


@dataclass
class Claimed:
    job_id: str
    owner: str
    done: int = 0  # needs scored so far, as the child process reports
    ended: bool = False  # this runner recorded how the job ended


async def _stop(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _keep_lease(pool: asyncpg.Pool, job: Claimed, lease: Lease) -> str | None:
    """The heartbeat, from the claim on (while the inputs load and the child starts too).
    Returns once the job is to be cancelled, or None once another runner holds it."""
    while True:
        async with transaction(pool) as conn:
            status = await repository.renew_batch_lease(
                conn, job.job_id, job.owner, job.done, lease.seconds
            )
        if status != "running":
            return status
        await asyncio.sleep(lease.heartbeat_seconds)


async def _work(pool: asyncpg.Pool, job: Claimed, request: dict[str, Any]) -> None:
    try:
        async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            inputs = await load_inputs(conn, request)
    except (LookupError, ValueError) as exc:
        await _settle(pool, job, "failed", error=f"{type(exc).__name__}: {exc}"[:500])
        return
    await _compute(pool, job, inputs)


async def load_inputs(conn: asyncpg.Connection, request: dict[str, Any]) -> BatchInputs:
    """What the job computes, as the API saw it when it queued the job: the providers as of
    the recorded change-log position, scored with the recorded taxonomy and policy."""
    taxonomy_doc = await repository.taxonomy(conn, request["taxonomy_version"])
    if taxonomy_doc is None:
        raise LookupError(f"taxonomy {request['taxonomy_version']} is not known")
    providers = await repository.providers_as_of(conn, request["provider_seq"])
    needs = await repository.open_needs(conn, request["need_ids"])  # matched since: left out
    return BatchInputs(
        taxonomy=Taxonomy.from_doc(taxonomy_doc),
        providers=[to_provider(row) for row in providers],
        needs=[to_need(r["need_id"], r["doc"], r["company"]) for r in needs],
        blocks={k: frozenset(v) for k, v in request["blocks"].items()},
        pins=request["pins"],
        weights=request["weights"],
        tolerance=request["tolerance"],
        options_per_need=request["options_per_need"],
    )


async def _compute(pool: asyncpg.Pool, job: Claimed, inputs: BatchInputs) -> None:
    messages = SPAWN.Queue()
    child = SPAWN.Process(target=run_child, args=(inputs, messages), daemon=True)
    # Shielded: a cancel while the child starts must not leave a started child unwatched.
    starting = asyncio.ensure_future(asyncio.to_thread(child.start))
    try:
        await asyncio.shield(starting)
        await _follow(pool, job, child, messages)
    finally:
        with contextlib.suppress(Exception):
            await starting
        if child.is_alive():
            child.terminate()
        await asyncio.to_thread(child.join, 5)
        # Linux counts ru_maxrss of the waited-for children in KiB (what sizes the worker pod).
        CHILD_PEAK_RSS.set(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)


async def _follow(
    pool: asyncpg.Pool, job: Claimed, child: Any, messages: multiprocessing.Queue[Any]
) -> None:
    """Read the child's progress until its result or failure, and record how the job ended."""
    while True:
        final = None
        while final is None:
            try:
                kind, value = messages.get_nowait()
            except queue.Empty:
                break
            if kind == "progress":
                job.done = value
            else:
                final = (kind, value)
        if final is not None:
            kind, value = final
            if kind == "done":
                await _settle(pool, job, "ready", result=value)
            else:
                await _settle(pool, job, "failed", error=value)
            return
        if not child.is_alive() and messages.empty():
            error = f"the batch process ended with exit code {child.exitcode}"
            await _settle(pool, job, "failed", error=error)
            return
        await asyncio.sleep(POLL_SECONDS)


async def _settle(
    pool: asyncpg.Pool,
    job: Claimed,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    async with transaction(pool) as conn:
        ended = await repository.settle_batch_job(
            conn, job.job_id, job.owner, status, result=result, error=error
        )
    if ended is None:
        JOBS_LOST.inc()
        log.warning("batch job taken over by another runner", extra={"job_id": job.job_id})
        return
    job.ended = True
    JOBS_ENDED.labels(ended).inc()
    log.info("batch job ended", extra={"job_id": job.job_id, "status": ended})

"""Batch jobs run by separate matching worker processes: the API only queues them; a worker
killed outright (SIGKILL) mid-job loses its lease and another worker takes the job over and
finishes it once. Real PostgreSQL, real worker processes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from services.matching import repository
from services.matching.app import build
from tests.matching import bulk
from tests.matching.test_staff_tools import TOKEN, settings_for
from tests.support.harness import RunningService, ServiceProcess, eventually, in_process
from werkbank.stack import StackInfo

# Two worker processes and a 1000 x 1000 batch computed about twice: minutes on a busy machine.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

NEEDS = 1000  # and as many providers: a job of some seconds, long enough to kill a worker in
LEASE_SECONDS = 3


@pytest.fixture
async def api(stack: StackInfo, schema: str) -> AsyncIterator[RunningService]:
    settings = settings_for(stack, schema).model_copy(update={"batch_in_api": False})
    async with in_process(build(settings)) as running:
        async with running.runtime.pool.acquire() as conn:
            await bulk.insert(conn, NEEDS)
        yield running


@pytest.fixture
def schema() -> str:
    return f"matching_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def workers(stack: StackInfo, schema: str) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    """Two worker processes, not started yet."""
    first, second = worker(stack, schema, "first"), worker(stack, schema, "second")
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def worker(stack: StackInfo, schema: str, name: str) -> ServiceProcess:
    env = {
        "MATCHING_DATABASE_URL": stack.database_url,
        "MATCHING_NATS_URL": stack.nats_url,
        "MATCHING_DB_SCHEMA": schema,
        "MATCHING_HTTP_HOST": "127.0.0.1",
        "MATCHING_BATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        "MATCHING_BATCH_POLL_SECONDS": "0.2",
        "WERKBANK_TEST_LOG": f"/tmp/matching-worker-{schema}-{name}.log",
    }
    return ServiceProcess("services.matching", env, "MATCHING_WORKER_HTTP_PORT", command="worker")


async def job_of(api: RunningService, job_id: str) -> dict[str, Any]:
    async with api.runtime.pool.acquire() as conn:
        job = await repository.batch_job(conn, job_id)
    assert job is not None
    return job


def held_by(job: dict[str, Any], process: ServiceProcess) -> bool:
    assert process.process is not None
    return f":{process.process.pid}:" in (job["lease_owner"] or "")


async def test_a_worker_killed_mid_job_is_replaced_and_the_job_ends_once(
    api: RunningService, workers: tuple[ServiceProcess, ServiceProcess]
) -> None:
    first, second = workers
    await first.start()
    async with api.client(TOKEN) as staff:
        started = await staff.post("/api/matching/batch", json={})
        assert started.status_code == 202, started.text
        job_id = started.json()["job_id"]
        seen: dict[str, Any] = {}

        async def computing_in_first() -> bool:
            seen.update(await job_of(api, job_id))
            return seen["status"] == "running" and held_by(seen, first) and seen["done"] > 0

        await eventually(computing_in_first, timeout=300, interval=0.05)
        lost_lease = seen["lease_owner"]
        first.kill()
        killed_at = await job_of(api, job_id)
        assert killed_at["status"] == "running", "killed mid-job, not after it"
        assert killed_at["done"] < killed_at["total"]

        await second.start()
        finished: dict[str, Any] = {}

        async def ready() -> bool:
            finished.update(await job_of(api, job_id))
            return finished["status"] not in {"queued", "running"}

        await eventually(ready, timeout=300, interval=0.2)
        assert finished["status"] == "ready", finished
        assert held_by(finished, second), "the second worker took the job over"
        assert finished["attempts"] == 2
        assert finished["done"] == finished["total"] == NEEDS

        async with api.runtime.pool.acquire() as conn:
            late = await repository.settle_batch_job(
                conn, job_id, lost_lease, "failed", error="the first worker's late word"
            )
        assert late is None, "a runner whose lease was taken over cannot end the job"
        assert (await job_of(api, job_id))["status"] == "ready"

        assignments = finished["result"]["assignments"]
        assert assignments, "the batch assigned needs"
        per_need = [a["need_id"] for a in assignments]
        assert len(per_need) == len(set(per_need)), "every need assigned at most once"
        per_provider: dict[str, int] = {}
        for a in assignments:
            per_provider[a["provider_id"]] = per_provider.get(a["provider_id"], 0) + 1
        assert max(per_provider.values()) <= 2, "no provider over its capacity of 2"

        committed = await staff.post(f"/api/matching/batch/{job_id}/commit")
        assert committed.status_code == 200, committed.text
        again = await staff.post(f"/api/matching/batch/{job_id}/commit")
        assert again.status_code == 409, "committed once"
        proposed = await _proposed_needs(api, committed.json()["run_id"])
        assert proposed == len(assignments)


async def test_a_stopping_worker_hands_its_job_back_and_a_cancel_reaches_the_next(
    api: RunningService, workers: tuple[ServiceProcess, ServiceProcess]
) -> None:
    first, second = workers
    await first.start()
    async with api.client(TOKEN) as staff:
        job_id = (await staff.post("/api/matching/batch", json={})).json()["job_id"]

        async def claimed_by_first() -> bool:
            job = await job_of(api, job_id)
            return job["status"] == "running" and held_by(job, first)

        await eventually(claimed_by_first, timeout=300, interval=0.05)
        first.stop()  # SIGTERM: the job is handed back at once, not when the lease runs out
        assert (await job_of(api, job_id))["status"] == "queued"

        await second.start()

        async def claimed_by_second() -> bool:
            job = await job_of(api, job_id)
            return job["status"] == "running" and held_by(job, second)

        await eventually(claimed_by_second, timeout=300, interval=0.05)
        cancelled = await staff.post(f"/api/matching/batch/{job_id}/cancel")
        assert cancelled.json()["status"] == "cancelling"

        async def over() -> bool:
            return bool((await job_of(api, job_id))["status"] == "cancelled")

        await eventually(over, timeout=120)
        assert (await staff.post(f"/api/matching/batch/{job_id}/commit")).status_code == 409


async def _proposed_needs(api: RunningService, run_id: str) -> int:
    async with api.runtime.pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(DISTINCT need_id) FROM proposals WHERE run_id = $1", run_id
        )
    return count

"""matching figures: the API stays responsive while a 10k x 10k batch runs as a background job.

The service is started once to migrate its schema, 10,000 providers and 10,000 open needs are
written straight into that schema, then the service starts again (its index built from the
snapshot). Baseline: the p99 of /readyz and of a single match with no batch running; then the
same while POST /batch computes in its worker process.
"""

from __future__ import annotations

import time
import uuid

import httpx

from bench.common import BenchContext, Figure, percentile
from services.matching.app import build
from services.matching.settings import MatchingSettings
from tests.matching import bulk
from tests.support.harness import in_process

SIZE = 10_000
PROBES = 40


async def _timed(client: httpx.AsyncClient, method: str, path: str) -> float:
    started = time.perf_counter()
    answer = await client.request(method, path)
    assert answer.status_code < 500, answer.text
    return (time.perf_counter() - started) * 1000


async def _probe(client: httpx.AsyncClient, need: int) -> tuple[float, float]:
    ready = await _timed(client, "GET", "/readyz")
    match = await _timed(client, "POST", f"/api/matching/needs/n{need}/match")
    return ready, match


async def run(context: BenchContext) -> list[Figure]:
    stack = context.stack()
    settings = MatchingSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        staff_token="bench",  # type: ignore[arg-type]
        static_token_enabled=True,
        db_schema=f"bench_batch_{uuid.uuid4().hex[:6]}",
    )
    async with in_process(build(settings)) as first, first.runtime.pool.acquire() as conn:
        await bulk.insert(conn, SIZE)
    async with in_process(build(settings)) as service, service.client("bench") as client:
        quiet = [await _probe(client, i) for i in range(PROBES)]
        started = time.perf_counter()
        started_job = await client.post("/api/matching/batch", json={})
        assert started_job.status_code == 202, started_job.text
        job = started_job.json()
        busy: list[tuple[float, float]] = []
        status = job["status"]
        while status in {"queued", "running"}:
            busy.append(await _probe(client, PROBES + len(busy)))
            status = (await client.get(f"/api/matching/batch/{job['job_id']}")).json()["status"]
        seconds = time.perf_counter() - started
    return [
        Figure(
            "matching_readyz_p99_during_batch_ms",
            percentile([r for r, _ in busy], 99),
            "ms",
            baseline=percentile([r for r, _ in quiet], 99),
            goal="close to the baseline (no batch running)",
            note=f"{len(busy)} probes during a {SIZE // 1000}k x {SIZE // 1000}k batch job "
            f"that took {seconds:.1f} s and ended {status}",
        ),
        Figure(
            "matching_single_match_p99_during_batch_ms",
            percentile([m for _, m in busy], 99),
            "ms",
            baseline=percentile([m for _, m in quiet], 99),
            note="POST /needs/{id}/match against 10,000 providers; baseline: no batch running",
        ),
    ]

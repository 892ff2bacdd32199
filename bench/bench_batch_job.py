"""matching figures: the API stays responsive while a 10k x 10k batch runs as a background job
in the matching worker, and what that worker's memory peaks at (which sizes its pod).

The service is started once to migrate its schema, 10,000 providers and 10,000 open needs are
written straight into that schema, then the service starts again (its index built from the
snapshot) with a worker process (``python -m services.matching worker``) beside it. Baseline:
the p99 of /readyz and of a single match with no batch running; then the same while the worker
computes the job POST /batch queued.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx

from bench.common import BenchContext, Figure, percentile
from services.matching.app import build
from services.matching.settings import MatchingSettings
from tests.matching import bulk
from tests.support.harness import ServiceProcess, in_process

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


def _peak_rss_mb(pid: int) -> float:
    """The process's own peak resident memory (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) / 1024


async def _child_peak_rss_mb(worker: ServiceProcess) -> float:
    async with httpx.AsyncClient(base_url=worker.base_url, timeout=10) as client:
        metrics = (await client.get("/metrics")).text
    [sample] = [
        line
        for line in metrics.splitlines()
        if line.startswith("werkbank_matching_batch_child_peak_rss_bytes ")
    ]
    return float(sample.split()[1]) / 2**20


async def run(context: BenchContext) -> list[Figure]:
    stack = context.stack()
    schema = f"bench_batch_{uuid.uuid4().hex[:6]}"
    settings = MatchingSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        staff_token="bench",  # type: ignore[arg-type]
        static_token_enabled=True,
        db_schema=schema,
        batch_in_api=False,
    )
    async with in_process(build(settings)) as first, first.runtime.pool.acquire() as conn:
        await bulk.insert(conn, SIZE)
    worker = ServiceProcess(
        "services.matching",
        {
            "MATCHING_DATABASE_URL": stack.database_url,
            "MATCHING_DB_SCHEMA": schema,
            "MATCHING_HTTP_HOST": "127.0.0.1",
            "WERKBANK_TEST_LOG": f"/tmp/werkbank-bench-worker-{schema}.log",
        },
        "MATCHING_WORKER_HTTP_PORT",
        command="worker",
    )
    await worker.start()
    try:
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
                answer = await client.get(f"/api/matching/batch/{job['job_id']}")
                status = answer.json()["status"]
            seconds = time.perf_counter() - started
        assert worker.process is not None
        worker_mb = _peak_rss_mb(worker.process.pid)
        child_mb = await _child_peak_rss_mb(worker)
    finally:
        worker.stop()
    return [
        Figure(
            "matching_readyz_p99_during_batch_ms",
            percentile([r for r, _ in busy], 99),
            "ms",
            baseline=percentile([r for r, _ in quiet], 99),
            goal="close to the baseline (no batch running)",
            note=f"{len(busy)} probes during a {SIZE // 1000}k x {SIZE // 1000}k batch job "
            f"that the matching worker ran in {seconds:.1f} s (queued to {status})",
        ),
        Figure(
            "matching_single_match_p99_during_batch_ms",
            percentile([m for _, m in busy], 99),
            "ms",
            baseline=percentile([m for _, m in quiet], 99),
            note="POST /needs/{id}/match against 10,000 providers; baseline: no batch running",
        ),
        Figure(
            "matching_worker_peak_rss_mb",
            worker_mb + child_mb,
            "MB",
            goal="<= 2048 MB (the worker pod's limit)",
            note=f"the worker process {worker_mb:.0f} MB (its inputs) + the batch child process "
            f"{child_mb:.0f} MB (index, scores, LP), each at its own peak",
        ),
    ]

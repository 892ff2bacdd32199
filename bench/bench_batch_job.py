"""matching figures: the API stays responsive while a 10k x 10k batch runs as a background job.

The service is started once to migrate its schema, 10,000 providers and 10,000 open needs are
written straight into that schema, then the service starts again (its index built from the
snapshot). Baseline: the p99 of /readyz and of a single match with no batch running; then the
same while POST /batch computes in its worker process.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict

import httpx

from bench.common import BenchContext, Figure, percentile
from services.matching.app import build
from services.matching.settings import MatchingSettings
from tests.matching.test_index import needs, providers
from tests.support.harness import in_process

SIZE = 10_000
PROBES = 40


def _rows() -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    provider_rows = []
    for p in providers(SIZE, seed=11):
        doc = asdict(p)
        doc.update(
            service_types=[s.value for s in p.service_types],
            levels=dict(p.levels),
            capacity=2,
            booked=0,
            radius_km=60.0,
            contacts=[],
        )
        provider_rows.append((p.provider_id, json.dumps(doc)))
    need_rows = []
    for n in needs(SIZE, seed=13):
        doc = {
            "company_id": "co-bench",
            "title": n.title,
            "description": n.description,
            "categories": list(n.categories),
            "service_type": n.service_type.value,
            "budget_max": n.budget_max,
            "provider_kinds": ["it_provider", "mentor"],
        }
        need_rows.append((n.need_id, "co-bench", json.dumps(doc)))
    return provider_rows, need_rows


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
    provider_rows, need_rows = _rows()
    company = {"name": "Bench", "postcode": "44137", "city": "Dortmund", "languages": ["de", "tr"]}
    async with in_process(build(settings)) as first, first.runtime.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO companies (company_id, doc) VALUES ('co-bench', $1::text::jsonb)",
            json.dumps(company),
        )
        await conn.executemany(
            "INSERT INTO providers (provider_id, doc) VALUES ($1, $2::text::jsonb)",
            provider_rows,
        )
        await conn.executemany(
            "INSERT INTO needs (need_id, company_id, doc) VALUES ($1, $2, $3::text::jsonb)",
            need_rows,
        )
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

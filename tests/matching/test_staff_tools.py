"""Import, delete, pins and blocks, batch allocation, freshness and replay, over real servers."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.matching.app import build
from services.matching.settings import MatchingSettings
from tests.matching.sample import BAUSTOFF, CHAT_NEED, PROVIDERS
from tests.support.harness import RunningService, eventually, in_process
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
TOKEN = "staff-secret"

PROVIDERS_CSV = (Path(__file__).parent / "providers_import.csv").read_text(encoding="utf-8")


def settings_for(stack: StackInfo, schema: str) -> MatchingSettings:
    return MatchingSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        staff_token=TOKEN,  # type: ignore[arg-type]
        static_token_enabled=True,
        db_schema=schema,
    )


@pytest.fixture
def schema() -> str:
    return f"matching_{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def service(stack: StackInfo, schema: str) -> AsyncIterator[RunningService]:
    async with in_process(build(settings_for(stack, schema))) as running:
        yield running


@pytest.fixture
async def staff(service: RunningService) -> AsyncIterator[httpx.AsyncClient]:
    async with service.client(TOKEN) as client:
        yield client


async def put_sample(staff: httpx.AsyncClient) -> None:
    assert (await staff.put("/api/matching/companies/co-bau", json=BAUSTOFF)).status_code == 200
    for provider_id, body in PROVIDERS.items():
        assert (await staff.put(f"/api/matching/providers/{provider_id}", json=body)).is_success


async def test_csv_and_json_imports_store_everything_or_nothing(staff: httpx.AsyncClient) -> None:
    answer = await staff.post(
        "/api/matching/import/providers",
        content=PROVIDERS_CSV,
        headers={"Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"kind": "providers", "created": 2, "updated": 0}
    companies = [{"company_id": "co-bau", **BAUSTOFF}, {"company_id": "co-2", **BAUSTOFF}]
    assert (await staff.post("/api/matching/import/companies", json=companies)).is_success
    needs = [
        {"need_id": "n-ok", **CHAT_NEED},
        {"need_id": "n-bad", **CHAT_NEED, "categories": ["market.telepathy"]},
        {"need_id": "n-worse", **CHAT_NEED, "service_type": "magic"},
    ]
    refused = await staff.post("/api/matching/import/needs", json=needs)
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {(2, "categories"), (3, "service_type")}
    assert (await staff.get("/api/matching/needs")).json() == [], "nothing was imported"
    assert (await staff.post("/api/matching/import/needs", json=needs[:1])).json()["created"] == 1
    [listed] = (await staff.get("/api/matching/needs")).json()
    assert (listed["need_id"], listed["company_id"], listed["status"]) == ("n-ok", "co-bau", "open")
    not_json = await staff.post("/api/matching/import/needs", content=b"{oops")
    assert not_json.status_code == 422
    assert "not JSON" in not_json.text


async def test_deleting_keeps_the_data_consistent(staff: httpx.AsyncClient) -> None:
    await put_sample(staff)
    assert (await staff.put("/api/matching/needs/n1", json=CHAT_NEED)).is_success
    busy = await staff.delete("/api/matching/companies/co-bau")
    assert busy.status_code == 409
    assert busy.json()["needs"] == ["n1"]
    assert (await staff.delete("/api/matching/needs/n1")).status_code == 204
    assert (await staff.delete("/api/matching/companies/co-bau")).status_code == 204
    assert (await staff.delete("/api/matching/providers/p-chat")).status_code == 204
    assert (await staff.delete("/api/matching/providers/p-chat")).status_code == 404


async def test_a_provider_change_reaches_the_next_query_on_another_replica(
    stack: StackInfo, schema: str, staff: httpx.AsyncClient
) -> None:
    await put_sample(staff)
    assert (await staff.put("/api/matching/needs/n1", json=CHAT_NEED)).is_success
    async with (
        in_process(build(settings_for(stack, schema))) as other,
        other.client(TOKEN) as replica,
    ):
        before = (await replica.post("/api/matching/needs/n1/match")).json()
        assert before[0]["provider_id"] == "p-chat"
        assert (await staff.delete("/api/matching/providers/p-chat")).status_code == 204
        after = (await replica.post("/api/matching/needs/n1/match")).json()
        assert "p-chat" not in [p["provider_id"] for p in after]


async def finished_job(staff: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    latest: dict[str, Any] = {}

    async def settled() -> bool:
        latest.update((await staff.get(f"/api/matching/batch/{job_id}")).json())
        return latest["status"] not in {"queued", "running", "cancelling"}

    await eventually(settled, timeout=60)
    return latest


async def run_batch(staff: httpx.AsyncClient) -> dict[str, Any]:
    started = await staff.post("/api/matching/batch", json={})
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    assert started.headers["location"] == f"/api/matching/batch/{job_id}"
    job = await finished_job(staff, job_id)
    assert job["status"] == "ready", job
    committed = await staff.post(f"/api/matching/batch/{job_id}/commit")
    assert committed.status_code == 200, committed.text
    result: dict[str, Any] = committed.json()
    return result


async def test_a_batch_runs_as_a_job_staff_preview_then_commit_or_discard(
    staff: httpx.AsyncClient,
) -> None:
    await put_sample(staff)
    assert (await staff.put("/api/matching/needs/n1", json=CHAT_NEED)).is_success
    started = (await staff.post("/api/matching/batch", json={})).json()
    job = await finished_job(staff, started["job_id"])
    assert (job["status"], job["done"], job["total"]) == ("ready", 1, 1)
    assert [a["need_id"] for a in job["result"]["assignments"]] == ["n1"]
    assert (await staff.get("/api/matching/needs/n1/proposals")).json() == [], "only a preview"
    discarded = await staff.post(f"/api/matching/batch/{started['job_id']}/cancel")
    assert discarded.json()["status"] == "cancelled"
    late = await staff.post(f"/api/matching/batch/{started['job_id']}/commit")
    assert late.status_code == 409
    result = await run_batch(staff)
    proposals = (await staff.get("/api/matching/needs/n1/proposals")).json()
    assert proposals[0]["run_id"] == result["run_id"]
    assert (await staff.get("/api/matching/batch/batch-none")).status_code == 404


async def test_pins_and_blocks_survive_re_runs_of_the_batch(staff: httpx.AsyncClient) -> None:
    await put_sample(staff)
    for need_id in ("n1", "n2"):
        assert (await staff.put(f"/api/matching/needs/{need_id}", json=CHAT_NEED)).is_success
    first = await run_batch(staff)
    assert {a["need_id"] for a in first["assignments"]} == {"n1", "n2"}
    assert (await staff.put("/api/matching/needs/n1/blocks/p-chat", json={})).is_success
    assert await staff.put("/api/matching/needs/n2/pins/p-shop", json={"reason": "Wunsch"})
    for _ in range(2):
        again = await run_batch(staff)
        pairs = {(a["need_id"], a["provider_id"], a["pinned"]) for a in again["assignments"]}
        assert ("n2", "p-shop", True) in pairs
        assert all(not (need == "n1" and provider == "p-chat") for need, provider, _ in pairs)
    proposals = (await staff.get("/api/matching/needs/n2/proposals")).json()
    assert proposals[0]["provider_id"] == "p-shop"
    assert proposals[0]["breakdown"], "a batch proposal is explained too"
    overrides = (await staff.get("/api/matching/needs/n1/overrides")).json()
    assert [(o["provider_id"], o["kind"]) for o in overrides] == [("p-chat", "block")]
    assert (await staff.delete("/api/matching/needs/n1/overrides/p-chat")).status_code == 204


async def test_a_run_replays_to_the_same_result_after_providers_changed(
    staff: httpx.AsyncClient,
) -> None:
    await put_sample(staff)
    assert (await staff.put("/api/matching/needs/n1", json=CHAT_NEED)).is_success
    proposals = (await staff.post("/api/matching/needs/n1/match")).json()
    run_id = proposals[0]["run_id"]
    changed = {**PROVIDERS["p-chat"], "profile": "Nur noch Buchhaltung", "categories": ["data"]}
    assert (await staff.put("/api/matching/providers/p-chat", json=changed)).is_success
    replay = (await staff.post(f"/api/matching/runs/{run_id}/replay")).json()
    assert replay["same"] is True
    assert replay["replayed"]["proposals"][0][0] == "p-chat"
    fresh = (await staff.post("/api/matching/needs/n1/match")).json()
    assert fresh[0]["provider_id"] != "p-chat"
    run = (await staff.get(f"/api/matching/runs/{run_id}")).json()
    assert run["inputs"]["need"]["title"] == CHAT_NEED["title"]
    assert json.dumps(run["weights"])

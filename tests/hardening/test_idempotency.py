"""Staff writes with an Idempotency-Key: a retry gets the first answer instead of a second
write (or a 409 for an accept already done)."""

from __future__ import annotations

import pytest

from tests.hardening.conftest import TOKEN
from tests.matching.sample import BAUSTOFF, CHAT_NEED, PROVIDERS
from tests.support.harness import RunningService

pytestmark = pytest.mark.integration


async def test_a_retried_accept_with_the_same_key_gets_the_first_answer(
    matching: RunningService,
) -> None:
    async with matching.client(TOKEN) as staff:
        assert (await staff.put("/api/matching/companies/co-bau", json=BAUSTOFF)).is_success
        provider = await staff.put("/api/matching/providers/p-chat", json=PROVIDERS["p-chat"])
        assert provider.is_success
        assert (await staff.put("/api/matching/needs/n-idem", json=CHAT_NEED)).is_success
        [first, *_] = (await staff.post("/api/matching/needs/n-idem/match")).json()
        url = f"/api/matching/proposals/{first['proposal_id']}/accept"
        accepted = await staff.post(url, headers={"Idempotency-Key": "accept-1"})
        retried = await staff.post(url, headers={"Idempotency-Key": "accept-1"})
        without_key = await staff.post(url)
        other_key = await staff.post(url, headers={"Idempotency-Key": "accept-2"})
        bad_key = await staff.post(url, headers={"Idempotency-Key": "k" * 201})
    assert accepted.status_code == 200, accepted.text
    assert (retried.status_code, retried.json()) == (200, accepted.json())
    assert retried.headers["idempotent-replayed"] == "true"
    assert without_key.status_code == 409, "a second accept without the key is a conflict"
    assert other_key.status_code == 409
    assert bad_key.status_code == 422
    assert bad_key.json()["errors"][0]["field"] == "Idempotency-Key"
    rows = await matching.runtime.pool.fetch("SELECT key, status FROM idempotency_keys")
    assert {(r["key"], r["status"]) for r in rows} >= {("accept-1", 200), ("accept-2", 409)}


async def test_the_key_is_documented_on_staff_writes(matching: RunningService) -> None:
    async with matching.client() as client:
        openapi = (await client.get("/openapi.json")).json()
    accept = openapi["paths"]["/api/matching/proposals/{proposal_id}/accept"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in accept["parameters"]]

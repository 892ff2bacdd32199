"""Concurrent match calls on needs that share tied providers never deadlock on the exposure
ledger (its rows are taken in one order): every call answers 200."""

from __future__ import annotations

import asyncio

import pytest

from tests.hardening.conftest import TOKEN
from tests.matching.sample import BAUSTOFF, CHAT_NEED, PROVIDERS, contact
from tests.support.harness import RunningService

pytestmark = pytest.mark.integration
TWINS = [f"p-twin-{n}" for n in range(6)]


async def test_concurrent_match_calls_with_tied_providers_all_succeed(
    matching: RunningService,
) -> None:
    async with matching.client(TOKEN) as staff:
        assert (await staff.put("/api/matching/companies/co-bau", json=BAUSTOFF)).is_success
        for provider_id in reversed(TWINS):  # identical profiles: one tie band
            body = {**PROVIDERS["p-chat"], "contacts": [contact(f"c-{provider_id}", "Twin")]}
            answer = await staff.put(f"/api/matching/providers/{provider_id}", json=body)
            assert answer.is_success, answer.text
        needs = [f"n-conc-{n}" for n in range(8)]
        for need_id in needs:
            assert (await staff.put(f"/api/matching/needs/{need_id}", json=CHAT_NEED)).is_success
        calls = [staff.post(f"/api/matching/needs/{need}/match") for need in needs * 3]
        answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers] == [200] * len(calls), [
        a.text for a in answers if a.status_code != 200
    ][:1]
    tied = [p for p in answers[0].json() if p["provider_id"] in TWINS]
    assert len(tied) >= 2
    ledger = await matching.runtime.pool.fetchval(
        "SELECT count(*) FROM band_exposure WHERE provider_id = ANY($1::text[])", TWINS
    )
    assert ledger >= 2, "the tied providers' exposure was recorded"

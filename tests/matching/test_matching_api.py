"""The matching service's staff API and events, against the real servers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from services.matching.app import build
from services.matching.settings import MatchingSettings
from shared.events.base import Envelope
from shared.events.matching import MatchAccepted, MatchProposed
from tests.matching.sample import BAUSTOFF, CHAT_NEED, PROVIDERS
from tests.support.harness import eventually, in_process, nats_client
from tests.support.streams import read_all
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
TOKEN = "staff-secret"


@pytest.fixture
async def staff(stack: StackInfo) -> AsyncIterator[httpx.AsyncClient]:
    settings = MatchingSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        staff_token=TOKEN,  # type: ignore[arg-type]
        static_token_enabled=True,
        db_schema=f"matching_{uuid.uuid4().hex[:8]}",
    )
    async with in_process(build(settings)) as running, running.client(TOKEN) as client:
        yield client


async def load_sample(staff: httpx.AsyncClient, suffix: str) -> str:
    assert (await staff.put("/api/matching/companies/co-bau", json=BAUSTOFF)).status_code == 200
    for provider_id, body in PROVIDERS.items():
        answer = await staff.put(f"/api/matching/providers/{provider_id}", json=body)
        assert answer.status_code == 200, answer.text
    need_id = f"need-{suffix}"
    assert (await staff.put(f"/api/matching/needs/{need_id}", json=CHAT_NEED)).status_code == 200
    return need_id


async def test_the_building_materials_dealer_gets_the_chat_provider_first_with_reasons(
    staff: httpx.AsyncClient, stack: StackInfo
) -> None:
    need_id = await load_sample(staff, uuid.uuid4().hex[:6])
    proposals = (await staff.post(f"/api/matching/needs/{need_id}/match")).json()
    assert [p["provider_id"] for p in proposals][:2] == ["p-chat", "p-shop"]
    assert "p-far" not in [p["provider_id"] for p in proposals], "outside its radius"
    top = proposals[0]
    criteria = {c["criterion"]: c for c in top["breakdown"]}
    assert criteria["taxonomy"]["value"] == 0.85  # an exact category at the default level
    assert "Kundenchat" in criteria["taxonomy"]["reason_de"]
    assert "chat" in criteria["taxonomy"]["reason_en"].lower()
    assert abs(sum(c["contribution"] for c in top["breakdown"]) - top["score"]) < 1e-3
    runs = (await staff.get("/api/matching/runs")).json()
    assert runs[0]["need_id"] == need_id
    assert runs[0]["results"]["veto_counts"] == {"outside the service radius": 1}
    replayed = (await staff.post(f"/api/matching/runs/{runs[0]['run_id']}/replay")).json()
    assert replayed["same"] is True
    assert replayed["replayed"]["proposals"][0][0] == "p-chat"

    async with nats_client(stack.nats_url) as client:

        async def proposed() -> bool:
            messages = await read_all(client, "MATCHING", "matching.match.proposed", idle=0.2)
            return any(
                Envelope[MatchProposed].model_validate_json(m.data).data.need_id == need_id
                for m in messages
            )

        await eventually(proposed)


async def test_accepting_a_proposal_publishes_match_accepted_with_both_parties(
    staff: httpx.AsyncClient, stack: StackInfo
) -> None:
    need_id = await load_sample(staff, uuid.uuid4().hex[:6])
    proposals = (await staff.post(f"/api/matching/needs/{need_id}/match")).json()
    proposal_id = proposals[0]["proposal_id"]
    accepted = await staff.post(f"/api/matching/proposals/{proposal_id}/accept")
    assert accepted.status_code == 200
    again = await staff.post(f"/api/matching/proposals/{proposal_id}/accept")
    assert again.status_code == 409

    async with nats_client(stack.nats_url) as client:
        found: list[MatchAccepted] = []

        async def published() -> bool:
            messages = await read_all(client, "MATCHING", "matching.match.accepted", idle=0.2)
            # Other tests put deliberately broken events on this subject: skip what is not ours.
            ours = [m for m in messages if proposal_id.encode() in m.data]
            found[:] = [Envelope[MatchAccepted].model_validate_json(m.data).data for m in ours]
            return bool(found)

        await eventually(published)
    event = found[0]
    assert event.need.need_id == need_id
    assert event.company.contacts[0].contact_id == "c-bau-1"
    assert event.provider.party_id == "p-chat"


async def test_bad_input_gets_a_422_naming_the_field(staff: httpx.AsyncClient) -> None:
    await load_sample(staff, "bad")
    unknown = await staff.put(
        "/api/matching/needs/n-x", json={**CHAT_NEED, "categories": ["market.telepathy"]}
    )
    assert unknown.status_code == 422
    assert "market.chat" in unknown.json()["valid_codes"]
    too_long = await staff.put(
        "/api/matching/needs/n-y", json={**CHAT_NEED, "description": "x" * 5001}
    )
    assert too_long.status_code == 422
    assert "description" in too_long.text
    assert "5000" in too_long.text
    bad_postcode = await staff.put(
        "/api/matching/companies/co-z", json={**BAUSTOFF, "postcode": "ABC"}
    )
    assert bad_postcode.status_code == 422
    assert "postcode" in bad_postcode.text


async def test_the_staff_api_refuses_requests_without_the_token(staff: httpx.AsyncClient) -> None:
    answer = await staff.get("/api/matching/needs", headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401


async def test_tied_providers_take_turns_at_the_top_and_the_tie_is_explained(
    staff: httpx.AsyncClient,
) -> None:
    assert (await staff.put("/api/matching/companies/co-bau", json=BAUSTOFF)).status_code == 200
    for twin in ("p-twin-a", "p-twin-b"):
        answer = await staff.put(f"/api/matching/providers/{twin}", json=PROVIDERS["p-chat"])
        assert answer.status_code == 200, answer.text
    assert (await staff.put("/api/matching/needs/n-twins", json=CHAT_NEED)).status_code == 200
    firsts = []
    for _ in range(4):
        proposals = (await staff.post("/api/matching/needs/n-twins/match")).json()
        firsts.append(proposals[0]["provider_id"])
        assert proposals[0]["tie"]["tied_with"] == 1
        assert proposals[0]["tie"]["reason_de"] == (
            "gleichauf mit einem weiteren Anbieter; Reihenfolge nach ausgewogener Sichtbarkeit"
        )
    assert firsts[0] != firsts[1]
    assert firsts[2] != firsts[3]
    assert sorted(firsts) == ["p-twin-a", "p-twin-a", "p-twin-b", "p-twin-b"]
    latest = (await staff.get("/api/matching/runs")).json()[0]
    replayed = (await staff.post(f"/api/matching/runs/{latest['run_id']}/replay")).json()
    assert replayed["same"] is True

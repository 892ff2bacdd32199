"""Reading records back, validation of what is stored, and answers that say why."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from services.matching.app import build
from services.matching.settings import MatchingSettings
from tests.matching.sample import BAUSTOFF, CHAT_NEED, PROVIDERS
from tests.support.harness import in_process
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


def fields(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return {error["field"] for error in answer.json()["errors"]}


async def test_what_would_be_stored_wrongly_is_refused_naming_the_field(
    staff: httpx.AsyncClient,
) -> None:
    german = {**BAUSTOFF, "languages": ["Deutsch"]}
    assert fields(await staff.put("/api/matching/companies/co-x", json=german)) == {"languages.0"}
    assert (await staff.put("/api/matching/companies/co-bau", json=BAUSTOFF)).status_code == 200
    upside_down = {**CHAT_NEED, "budget_min": 5000, "budget_max": 500}
    assert fields(await staff.put("/api/matching/needs/n-x", json=upside_down)) == {"budget_max"}
    short_postcode = {**PROVIDERS["p-chat"], "postcode": "4414"}
    assert fields(await staff.put("/api/matching/providers/p-x", json=short_postcode)) == {
        "postcode"
    }
    many = {**CHAT_NEED, "categories": ["market.chat"] * 21}
    assert fields(await staff.put("/api/matching/needs/n-x", json=many)) == {"categories"}


async def test_categories_are_suggested_from_the_text_for_staff_to_confirm(
    staff: httpx.AsyncClient,
) -> None:
    text = {"title": "WhatsApp für Stammkunden", "description": "Bestellungen per Chat"}
    answer = await staff.post("/api/matching/needs/suggest-categories", json=text)
    assert answer.status_code == 200, answer.text
    first = answer.json()["suggestions"][0]
    assert (first["code"], first["label_de"]) == ("market.chat", "Kundenchat und Messenger")
    assert {"WhatsApp", "Chat"} <= set(first["words"])
    assert 0 < first["confidence"] <= 1
    assert (await staff.put("/api/matching/companies/co-bau", json=BAUSTOFF)).status_code == 200
    stored = (await staff.put("/api/matching/needs/n1", json=CHAT_NEED)).json()
    assert "market.chat" in [s["code"] for s in stored["suggested_categories"]]


async def test_records_are_read_one_by_one_and_in_filtered_pages(
    staff: httpx.AsyncClient,
) -> None:
    assert (await staff.put("/api/matching/companies/co-bau", json=BAUSTOFF)).status_code == 200
    for provider_id, body in PROVIDERS.items():
        assert (await staff.put(f"/api/matching/providers/{provider_id}", json=body)).is_success
    mentor = {**PROVIDERS["p-chat"], "kind": "mentor", "name": "Lotsin"}
    assert (await staff.put("/api/matching/providers/p-lotsin", json=mentor)).is_success
    assert (await staff.put("/api/matching/needs/n1", json=CHAT_NEED)).is_success

    company = (await staff.get("/api/matching/companies/co-bau")).json()
    assert (company["company_id"], company["postcode"]) == ("co-bau", "44147")
    assert (await staff.get("/api/matching/needs/n1")).json()["title"] == CHAT_NEED["title"]
    missing = await staff.get("/api/matching/providers/p-none")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")

    first = await staff.get("/api/matching/providers", params={"limit": 2})
    assert [p["provider_id"] for p in first.json()] == ["p-chat", "p-far"]
    next_url = first.headers["link"].split(";")[0].strip("<>")
    second = await staff.get(next_url)
    assert [p["provider_id"] for p in second.json()] == ["p-lotsin", "p-shop"]
    chat = await staff.get("/api/matching/providers", params={"category": "market.chat"})
    assert [p["provider_id"] for p in chat.json()] == ["p-chat", "p-far", "p-lotsin"]
    assert "link" not in chat.headers, "no further page"
    mentors = await staff.get("/api/matching/providers", params={"kind": "mentor"})
    assert [p["provider_id"] for p in mentors.json()] == ["p-lotsin"]
    open_needs = await staff.get("/api/matching/needs", params={"status": "open"})
    assert [n["need_id"] for n in open_needs.json()] == ["n1"]


async def test_proposals_of_an_unknown_need_are_not_found(staff: httpx.AsyncClient) -> None:
    answer = await staff.get("/api/matching/needs/n-unknown/proposals")
    assert answer.status_code == 404
    assert "n-unknown" in answer.json()["detail"]


async def test_a_match_that_vetoes_everyone_says_how_many_each_filter_removed(
    staff: httpx.AsyncClient,
) -> None:
    turkish_only = {**BAUSTOFF, "languages": ["tr"]}
    assert (await staff.put("/api/matching/companies/co-tr", json=turkish_only)).is_success
    for provider_id, body in PROVIDERS.items():
        assert (await staff.put(f"/api/matching/providers/{provider_id}", json=body)).is_success
    need = {**CHAT_NEED, "company_id": "co-tr"}
    assert (await staff.put("/api/matching/needs/n-tr", json=need)).is_success
    answer = await staff.post("/api/matching/needs/n-tr/match")
    assert answer.status_code == 409, answer.text
    assert answer.json()["veto_counts"] == {"no common language": 3}
    assert answer.json()["run_id"].startswith("run-")

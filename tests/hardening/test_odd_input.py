"""Odd input is a 4xx naming the field, never a 500: NUL and lone surrogates, 10,000-character
ids, JSON nested 1,000 deep, huge CSV fields, CSV in other encodings, non-ASCII secrets."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hardening.conftest import TOKEN
from tests.matching.sample import BAUSTOFF
from tests.support.harness import RunningService

pytestmark = pytest.mark.integration
VENUE = {"name": "Rathaus", "address": "Markt 1"}
CSV_HEADER = "company_id,name,sector_code,postcode,city,contact_name,contact_email\n"


def fields_of(answer: Any) -> set[str]:
    assert answer.headers["content-type"] == "application/problem+json"
    return {error["field"] for error in answer.json()["errors"]}


async def test_nul_characters_in_path_query_and_body_are_refused_by_field(
    booking: RunningService,
) -> None:
    async with booking.client(TOKEN) as staff:
        in_path = await staff.put("/api/booking/venues/v%00x", json=VENUE)
        in_query = await staff.get("/api/booking/meetings", params={"q": "a\x00b"})
        in_body = await staff.put("/api/booking/venues/v-nul", json={**VENUE, "name": "a\x00b"})
    assert (in_path.status_code, fields_of(in_path)) == (422, {"venue_id"})
    assert (in_query.status_code, fields_of(in_query)) == (422, {"q"})
    assert (in_body.status_code, fields_of(in_body)) == (422, {"name"})


async def test_a_lone_surrogate_in_a_json_body_is_refused_by_field(
    booking: RunningService,
) -> None:
    body = b'{"name": "Rathaus \\ud800", "address": "Markt 1"}'
    async with booking.client(TOKEN) as staff:
        answer = await staff.put(
            "/api/booking/venues/v-sur", content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code == 422
    assert fields_of(answer) == {"name"}


async def test_a_ten_thousand_character_id_is_refused_not_a_btree_error(
    matching: RunningService,
) -> None:
    async with matching.client(TOKEN) as staff:
        answer = await staff.put(f"/api/matching/companies/{'c' * 10_000}", json=BAUSTOFF)
    assert answer.status_code == 422
    assert fields_of(answer) == {"company_id"}
    assert len(answer.content) < 2_000


@pytest.mark.parametrize(("depth", "status"), [(100, 422), (1000, 400), (100_000, 400)])
async def test_deeply_nested_json_is_refused(
    booking: RunningService, depth: int, status: int
) -> None:
    deep = "[" * depth + "]" * depth
    body = f'{{"name": "Rathaus", "address": "Markt 1", "rooms": {deep}}}'
    async with booking.client(TOKEN) as staff:
        answer = await staff.put(
            "/api/booking/venues/v-deep", content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    if status == 422:
        assert "nested deeper" in answer.json()["errors"][0]["message"]


async def test_a_csv_field_over_the_csv_module_limit_is_a_422(matching: RunningService) -> None:
    row = f'c-huge,"{"x" * 140_000}",46.73,44147,Dortmund,Ina,ina@example.org\n'
    async with matching.client(TOKEN) as staff:
        answer = await staff.post(
            "/api/matching/import/companies",
            content=(CSV_HEADER + row).encode(),
            headers={"content-type": "text/csv"},
        )
    assert answer.status_code == 422
    assert "field larger than field limit" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("latin-1", "text/csv"),
        ("cp1252", "text/csv; charset=windows-1252"),
        ("utf-16", "text/csv"),
        ("utf-16-le", "text/csv"),
    ],
)
async def test_csv_in_latin_1_or_utf_16_is_stored_with_its_umlauts(
    matching: RunningService, encoding: str, content_type: str
) -> None:
    company_id = f"c-{encoding}"
    row = f"{company_id},Müller Bäckerei,10.71,44147,Köln,Jörg Weiß,j@example.org\n"
    async with matching.client(TOKEN) as staff:
        answer = await staff.post(
            "/api/matching/import/companies",
            content=(CSV_HEADER + row).encode(encoding),
            headers={"content-type": content_type},
        )
        assert answer.status_code == 200, answer.text
        stored = await matching.runtime.pool.fetchrow(
            "SELECT doc FROM companies WHERE company_id = $1", company_id
        )
    assert stored is not None
    assert stored["doc"]["name"] == "Müller Bäckerei"
    assert stored["doc"]["city"] == "Köln"


async def test_a_csv_that_no_encoding_reads_is_refused_not_stored_as_mojibake(
    matching: RunningService,
) -> None:
    body = CSV_HEADER.encode() + b"c-bad,M\x81ller,10.71,44147,K\x81ln,Ina,i@example.org\n"
    async with matching.client(TOKEN) as staff:
        answer = await staff.post(
            "/api/matching/import/companies", content=body, headers={"content-type": "text/csv"}
        )
    assert answer.status_code == 422
    assert "UTF-8" in answer.json()["detail"]


async def test_a_non_ascii_bearer_token_is_a_401(notify: RunningService) -> None:
    async with notify.client() as client:
        answer = await client.get(
            "/api/notify/deliveries", headers={b"Authorization": "Bearer tökén".encode("latin-1")}
        )
    assert answer.status_code == 401


@pytest.mark.parametrize("token", ["YWJj.sïgnatur", "bTF8YzF8OTk5OTk5OTk5OTk5OTk5OTk5.x"])
async def test_a_non_ascii_or_absurd_rsvp_link_is_a_403(
    booking: RunningService, token: str
) -> None:
    async with booking.client() as client:
        answer = await client.get(f"/rsvp/{token}")
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"

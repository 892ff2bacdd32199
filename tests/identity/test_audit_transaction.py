"""Audit records commit in the same transaction as the write they record (PostgreSQL's ``xmin``
of both rows is one transaction id), for the writes beyond the day-to-day actions too."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests.identity.support import ADMIN, STAFF, token_of
from tests.matching.sample import BAUSTOFF, CHAT_NEED, PROVIDERS
from tests.support.harness import RunningService
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


def _headers(token: str, request_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Request-ID": request_id}


async def _same_transaction(
    db: asyncpg.Connection, service: RunningService, request_id: str, row_sql: str, *args: str
) -> None:
    schema = service.runtime.settings.schema_name
    audit_xmin = await db.fetchval(
        f"SELECT xmin::text FROM {schema}.audit_log WHERE request_id = $1", request_id
    )
    row_xmin = await db.fetchval(row_sql.replace("{s}", schema), *args)
    assert audit_xmin is not None, request_id
    assert audit_xmin == row_xmin, (request_id, audit_xmin, row_xmin)


async def test_profile_pin_and_place_writes_are_audited_in_their_own_transaction(
    matching: RunningService, booking: RunningService, stack: StackInfo, db: asyncpg.Connection
) -> None:
    staff, admin = token_of(stack, STAFF), token_of(stack, ADMIN)
    suffix = uuid.uuid4().hex[:6]
    company_id, need_id = f"co-tx-{suffix}", f"need-tx-{suffix}"
    provider_id = next(iter(PROVIDERS))
    async with matching.client() as client:
        rid = f"tx-company-{suffix}"
        put = await client.put(
            f"/api/matching/companies/{company_id}", json=BAUSTOFF, headers=_headers(staff, rid)
        )
        assert put.status_code == 200, put.text
        await _same_transaction(
            db, matching, rid, "SELECT xmin::text FROM {s}.companies WHERE company_id = $1",
            company_id,
        )  # fmt: skip
        answer = await client.put(
            f"/api/matching/providers/{provider_id}",
            json=PROVIDERS[provider_id],
            headers=_headers(staff, f"tx-provider-{suffix}"),
        )
        assert answer.status_code == 200, answer.text
        need = {**CHAT_NEED, "company_id": company_id}
        answer = await client.put(
            f"/api/matching/needs/{need_id}", json=need, headers=_headers(staff, f"tx-n-{suffix}")
        )
        assert answer.status_code == 200, answer.text
        rid = f"tx-pin-{suffix}"
        pinned = await client.put(
            f"/api/matching/needs/{need_id}/pins/{provider_id}",
            json={"reason": "Wunsch des Unternehmens"},
            headers=_headers(staff, rid),
        )
        assert pinned.status_code == 200, pinned.text
        await _same_transaction(
            db, matching, rid,
            "SELECT xmin::text FROM {s}.overrides WHERE need_id = $1 AND provider_id = $2",
            need_id, provider_id,
        )  # fmt: skip
    async with booking.client() as client:
        rid = f"tx-venue-{suffix}"
        venue = {"name": "Partnerraum", "address": "Phoenixplatz 1, 44263 Dortmund", "rooms": []}
        put = await client.put(
            f"/api/booking/venues/v-tx-{suffix}", json=venue, headers=_headers(admin, rid)
        )
        assert put.status_code == 200, put.text
        await _same_transaction(
            db, booking, rid, "SELECT xmin::text FROM {s}.venues WHERE venue_id = $1",
            f"v-tx-{suffix}",
        )  # fmt: skip

"""Roles in every service, and the audit log: one record per staff write, with the actor."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from shared.events.base import Envelope
from shared.events.matching import MatchAccepted
from shared.messaging.outbox import ACTOR_HEADER
from tests.identity.support import ADMIN, STAFF, VIEWER, token_of
from tests.matching.sample import BAUSTOFF, CHAT_NEED, PROVIDERS
from tests.support.harness import RunningService, eventually, nats_client
from tests.support.streams import read_all
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
READS = {"get", "head", "options"}


def _auth(token: str, request_id: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if request_id:
        headers["X-Request-ID"] = request_id
    return headers


def staff_writes(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    """Every operation that needs a bearer token and is not a read."""
    return [
        (method, path)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
        if method not in READS and operation.get("security")
    ]


async def _audit_rows(
    db: asyncpg.Connection, service: RunningService, request_id: str
) -> list[asyncpg.Record]:
    schema = service.runtime.settings.schema_name
    query = f"SELECT * FROM {schema}.audit_log WHERE request_id = $1"
    rows: list[asyncpg.Record] = await db.fetch(query, request_id)
    return rows


async def test_every_staff_write_of_every_service_leaves_exactly_one_audit_record(
    matching: RunningService,
    booking: RunningService,
    notify: RunningService,
    stack: StackInfo,
    db: asyncpg.Connection,
) -> None:
    admin = token_of(stack, ADMIN)
    checked = 0
    for name, service in {"matching": matching, "booking": booking, "notify": notify}.items():
        async with service.client() as client:
            openapi = (await client.get("/openapi.json")).json()
            writes = staff_writes(openapi)
            assert writes, f"{name} has no staff writes in its OpenAPI document"
            for method, path in writes:
                request_id = f"audit-{uuid.uuid4().hex}"
                concrete = re.sub(r"\{[^}]+\}", "audit-probe", path)
                answer = await client.request(
                    method.upper(), concrete, json={}, headers=_auth(admin, request_id)
                )
                assert answer.status_code != 401, (name, method, path)
                rows = await _audit_rows(db, service, request_id)
                assert len(rows) == 1, (name, method, path, answer.status_code, len(rows))
                row = rows[0]
                assert row["actor_subject"] == ADMIN
                assert row["actor_name"] == "Miriam Schulz"
                assert row["action"].startswith(f"{name}.")
                assert row["http_status"] == answer.status_code
                expected = "succeeded" if answer.status_code < 400 else "refused"
                assert row["outcome"] == expected
                checked += 1
    assert checked >= 20


async def test_each_role_is_allowed_and_denied_in_every_service(
    matching: RunningService,
    booking: RunningService,
    notify: RunningService,
    stack: StackInfo,
    db: asyncpg.Connection,
) -> None:
    viewer, staff = token_of(stack, VIEWER), token_of(stack, STAFF)
    async with booking.client() as client:
        assert (await client.get("/api/booking/meetings", headers=_auth(viewer))).status_code == 200
        request_id = f"deny-{uuid.uuid4().hex}"
        denied = await client.post(
            "/api/booking/meetings/m-1/cancel", json={}, headers=_auth(viewer, request_id)
        )
        assert denied.status_code == 403
        assert "'staff'" in denied.text
        (refusal,) = await _audit_rows(db, booking, request_id)
        assert (refusal["actor_subject"], refusal["outcome"]) == (VIEWER, "refused")
        passed = await client.post(
            "/api/booking/meetings/m-1/cancel", json={}, headers=_auth(staff)
        )
        assert passed.status_code == 404  # past the role check: there is no such meeting
        venue = await client.put("/api/booking/venues/v-1", json={}, headers=_auth(staff))
        assert venue.status_code == 403
        assert "'admin'" in venue.text
    async with notify.client() as client:
        listed = await client.get("/api/notify/deliveries", headers=_auth(viewer))
        assert listed.status_code == 200
        resend = await client.post("/api/notify/deliveries/d-1/resend", headers=_auth(viewer))
        assert resend.status_code == 403
        resend = await client.post("/api/notify/deliveries/d-1/resend", headers=_auth(staff))
        assert resend.status_code == 409  # allowed, but there is nothing to resend
    async with matching.client() as client:
        runs = await client.get("/api/matching/runs", headers=_auth(viewer))
        assert runs.status_code == 200
        replay = await client.post("/api/matching/runs/r-1/replay", headers=_auth(staff))
        assert replay.status_code == 403
        assert "'admin'" in replay.text


async def test_an_accept_records_the_actor_in_the_audit_log_the_event_and_its_headers(
    matching: RunningService, stack: StackInfo, db: asyncpg.Connection
) -> None:
    staff = token_of(stack, STAFF)
    suffix = uuid.uuid4().hex[:6]
    async with matching.client() as client:
        headers = _auth(staff)
        company = {**BAUSTOFF}
        assert (await client.put("/api/matching/companies/co-bau", json=company, headers=headers)
                ).status_code == 200  # fmt: skip
        for provider_id, body in PROVIDERS.items():
            answer = await client.put(
                f"/api/matching/providers/{provider_id}", json=body, headers=headers
            )
            assert answer.status_code == 200, answer.text
        need_id = f"need-{suffix}"
        answer = await client.put(f"/api/matching/needs/{need_id}", json=CHAT_NEED, headers=headers)
        assert answer.status_code == 200, answer.text
        proposals = (
            await client.post(f"/api/matching/needs/{need_id}/match", headers=headers)
        ).json()
        request_id = f"accept-{suffix}"
        accepted = await client.post(
            f"/api/matching/proposals/{proposals[0]['proposal_id']}/accept",
            headers=_auth(staff, request_id),
        )
        assert accepted.status_code == 200, accepted.text
    match_id = accepted.json()["match_id"]
    (row,) = await _audit_rows(db, matching, request_id)
    assert row["action"] == "matching.accept"
    assert row["outcome"] == "succeeded"
    assert row["actor_subject"] == STAFF
    assert row["actor_client"] == "werkbank-console"
    # The match id is only known inside the endpoint's transaction, where the record was made.
    targets = row["targets"]
    assert isinstance(targets, str)
    assert match_id in targets

    async with nats_client(stack.nats_url) as nats:

        async def accepted_event() -> bool:
            messages = await read_all(nats, "MATCHING", "matching.match.accepted", idle=0.2)
            for message in messages:
                if match_id.encode() not in message.data:
                    continue  # other tests' events, some of older shapes
                event = Envelope[MatchAccepted].model_validate_json(message.data).data
                if event.match_id == match_id:
                    assert event.accepted_by == STAFF
                    assert (message.headers or {}).get(ACTOR_HEADER) == STAFF
                    return True
            return False

        await eventually(accepted_event)

        async def audit_event() -> bool:
            messages = await read_all(nats, "AUDIT", "audit.action.recorded", idle=0.2)
            return any(request_id.encode() in message.data for message in messages)

        await eventually(audit_event)


async def test_the_audit_log_refuses_updates_and_deletes(
    matching: RunningService, stack: StackInfo, db: asyncpg.Connection
) -> None:
    staff = token_of(stack, STAFF)
    request_id = f"append-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=matching.base_url) as client:
        answer = await client.put(
            "/api/matching/companies/co-append", json=BAUSTOFF, headers=_auth(staff, request_id)
        )
        assert answer.status_code == 200
    schema = matching.runtime.settings.schema_name
    (row,) = await _audit_rows(db, matching, request_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute(
            f"UPDATE {schema}.audit_log SET actor_subject = 'someone' WHERE seq = $1",
            row["seq"],
        )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute(f"DELETE FROM {schema}.audit_log WHERE seq = $1", row["seq"])
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute(f"TRUNCATE {schema}.audit_log")
    assert len(await _audit_rows(db, matching, request_id)) == 1

"""Retention jobs: old email bodies and records go, fresh ones stay, one replica at a time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from prometheus_client import REGISTRY

from services.booking.retention import RULES as BOOKING
from services.console.retention import RULES as CONSOLE
from services.matching.retention import RULES as MATCHING
from services.notify.retention import RULES
from shared.retention import AUDIT_RECORDS, run_retention
from tests.privacy.test_erasure import arrange_a_meeting, person
from tests.support.harness import RunningService

pytestmark = pytest.mark.integration
_INSERT = """
INSERT INTO deliveries (delivery_id, event_id, event_type, channel, recipient, contact_id, status,
                        payload, updated_at)
VALUES ($1, $2, 'booking.meeting.confirmed', 'email', $3, 'c-ret', 'sent', '{"body": "Hallo"}',
        $4)
"""


async def delivery(pool: asyncpg.Pool, age: timedelta) -> str:
    delivery_id = f"ret-{uuid.uuid4().hex[:10]}"
    await pool.execute(
        _INSERT, delivery_id, uuid.uuid4(), f"{delivery_id}@example.org", datetime.now(UTC) - age
    )
    return delivery_id


def purged(kind: str) -> float:
    value = REGISTRY.get_sample_value(
        "werkbank_retention_purged_total", {"service": "notify", "kind": kind}
    )
    return value or 0.0


async def test_bodies_go_after_30_days_records_after_a_year_and_fresh_ones_stay(
    services: dict[str, RunningService],
) -> None:
    runtime = services["notify"].runtime
    pool = runtime.pool
    fresh, month, years = (
        await delivery(pool, timedelta(days=2)),
        await delivery(pool, timedelta(days=40)),
        await delivery(pool, timedelta(days=400)),
    )
    before = purged("email_bodies")
    result = await run_retention(pool, "notify", runtime.settings.schema_name, RULES)
    assert result is not None
    assert result["email_bodies"] >= 1
    rows = {
        row["delivery_id"]: row["payload"]
        for row in await pool.fetch(
            "SELECT delivery_id, payload::text AS payload FROM deliveries "
            "WHERE delivery_id = ANY($1::text[])",
            [fresh, month, years],
        )
    }
    assert set(rows) == {fresh, month}, "the record older than a year is gone"
    assert "Hallo" in rows[fresh]
    assert "Hallo" not in rows[month]
    assert purged("email_bodies") >= before + 1


async def test_a_round_is_skipped_while_another_replica_holds_it(
    services: dict[str, RunningService],
) -> None:
    runtime = services["notify"].runtime
    schema = runtime.settings.schema_name
    old = await delivery(runtime.pool, timedelta(days=40))
    async with runtime.pool.acquire() as other, other.transaction():
        await other.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"werkbank:retention:{schema}"
        )
        assert await run_retention(runtime.pool, "notify", schema, RULES) is None
    payload = await runtime.pool.fetchval(
        "SELECT payload::text FROM deliveries WHERE delivery_id = $1", old
    )
    assert "Hallo" in payload
    overridden = await run_retention(
        runtime.pool, "notify", schema, RULES, {"email_bodies": 60, "delivery_records": 365}
    )
    assert overridden is not None
    payload = await runtime.pool.fetchval(
        "SELECT payload::text FROM deliveries WHERE delivery_id = $1", old
    )
    assert "Hallo" in payload, "kept: the office keeps bodies for 60 days"


async def test_booking_and_matching_purge_only_what_is_older_than_their_limits(
    services: dict[str, RunningService],
) -> None:
    erika = person()
    await arrange_a_meeting(services, erika, f"co-ret-{erika['contact_id']}")
    booking = services["booking"].runtime
    meetings = await booking.pool.fetchval("SELECT count(*) FROM meetings")
    assert meetings >= 1
    kept = await run_retention(booking.pool, "booking", booking.settings.schema_name, BOOKING)
    assert kept == {"closed_meetings": 0}
    everything = await run_retention(
        booking.pool, "booking", booking.settings.schema_name, BOOKING, {"closed_meetings": -3650}
    )
    assert everything == {"closed_meetings": meetings}
    matching = services["matching"].runtime
    result = await run_retention(matching.pool, "matching", matching.settings.schema_name, MATCHING)
    assert result == {"exports": 0, "closed_needs": 0, "runs": 0, "erasure_requests": 0}


_AUDIT = """
INSERT INTO audit_log (audit_id, recorded_at, actor_subject, actor_name, auth_method, action,
                       request_id, outcome, http_status)
VALUES ($1, $2, 'jonas.becker', 'Jonas Becker', 'oidc', 'retention test', 'r', 'succeeded', 200)
"""


async def audit_record(pool: asyncpg.Pool, age: timedelta) -> uuid.UUID:
    audit_id = uuid.uuid4()
    await pool.execute(_AUDIT, audit_id, datetime.now(UTC) - age)
    return audit_id


async def test_audit_records_go_after_the_office_s_period_and_stay_append_only_otherwise(
    services: dict[str, RunningService],
) -> None:
    runtime = services["notify"].runtime
    pool = runtime.pool
    fresh = await audit_record(pool, timedelta(days=10))
    month = await audit_record(pool, timedelta(days=40))
    old = await audit_record(pool, timedelta(days=401))

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("DELETE FROM audit_log WHERE audit_id = $1", old)
    before = purged("audit_records")
    result = await run_retention(pool, "notify", runtime.settings.schema_name, (AUDIT_RECORDS,))
    assert result is not None
    assert result["audit_records"] >= 1
    assert purged("audit_records") - before == result["audit_records"]
    left = {r["audit_id"] for r in await pool.fetch("SELECT audit_id FROM audit_log")}
    assert old not in left
    assert {fresh, month} <= left

    # An office with a shorter policy: 30 days, set per kind like every other rule.
    days = {"audit_records": 30.0}
    await run_retention(pool, "notify", runtime.settings.schema_name, (AUDIT_RECORDS,), days)
    left = {r["audit_id"] for r in await pool.fetch("SELECT audit_id FROM audit_log")}
    assert month not in left
    assert fresh in left
    # The cut-off lets the retention job delete old rows only: a fresher one is still refused,
    # and UPDATE is refused whatever the cut-off.
    async with pool.acquire() as conn:
        for statement in (
            "DELETE FROM audit_log WHERE audit_id = $1",
            "UPDATE audit_log SET action = 'x' WHERE audit_id = $1",
        ):
            async with conn.transaction():
                await conn.execute(
                    "SELECT set_config('werkbank.audit_purge_before', "
                    "(now() - interval '20 days')::text, true)"
                )
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(statement, fresh)


async def test_the_console_s_copy_of_the_audit_records_goes_after_the_same_period(
    services: dict[str, RunningService],
) -> None:
    runtime = services["console"].runtime
    insert = (
        "INSERT INTO audit_trail (audit_id, service, recorded_at, actor_subject, actor_name, "
        "action, targets, request_id, outcome, http_status) "
        "VALUES ($1, 'matching', $2, 'jonas.becker', 'Jonas Becker', 'x', '{}', 'r', "
        "'succeeded', 200)"
    )
    old, fresh = str(uuid.uuid4()), str(uuid.uuid4())
    await runtime.pool.execute(insert, old, datetime.now(UTC) - timedelta(days=401))
    await runtime.pool.execute(insert, fresh, datetime.now(UTC) - timedelta(days=10))
    result = await run_retention(runtime.pool, "console", runtime.settings.schema_name, CONSOLE)
    assert result is not None
    assert result["audit_trail"] >= 1
    left = {r["audit_id"] for r in await runtime.pool.fetch("SELECT audit_id FROM audit_trail")}
    assert old not in left
    assert fresh in left

"""The read model's consumers: events applied in groups, in stream order, once each."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.console import handlers, queries
from services.console.app import MIGRATIONS, build
from services.console.domain.freshness import Freshness
from services.console.domain.paging import Cursor, decode_cursor
from services.console.handlers import Arrival, project_group
from services.console.settings import ConsoleSettings
from shared.db import Pool, create_pool
from shared.events.base import Envelope, wrap
from shared.events.matching import (
    CompanyRegistered,
    CompanyUpdated,
    CriterionScore,
    MatchProposed,
    Proposal,
)
from shared.events.streams import CONSOLE_ON_MATCHING
from shared.messaging.grouping import GroupCommit
from shared.migrations import migrate, migrations_for
from tests.support.harness import eventually, in_process, nats_client, publish
from werkbank.stack import StackInfo

SPEC = CONSOLE_ON_MATCHING


@pytest.fixture
async def pool(stack: StackInfo) -> AsyncIterator[Pool]:
    schema = f"console_rm_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, schema, migrations_for(MIGRATIONS))
    finally:
        await conn.close()
    opened = await create_pool(stack.database_url, schema)
    try:
        yield opened
    finally:
        await opened.close()


def company(company_id: str, name: str, *, size: int | None = 10, update: bool = False) -> Any:
    kind = CompanyUpdated if update else CompanyRegistered
    event = kind(
        company_id=company_id,
        name=name,
        sector_code="62",
        postcode="44135",
        city="Dortmund",
        size=size,
    )
    return wrap(event, source="matching")


def proposed(need_id: str, provider_id: str) -> Envelope[MatchProposed]:
    proposal = Proposal(
        proposal_id=f"prop-{uuid.uuid4().hex[:8]}",
        provider_id=provider_id,
        rank=1,
        score=0.9,
        breakdown=(
            CriterionScore(
                criterion="category",
                weight=1.0,
                value=1.0,
                contribution=1.0,
                reason_de="passt",
                reason_en="fits",
            ),
        ),
    )
    event = MatchProposed(
        run_id=f"run-{uuid.uuid4().hex[:8]}",
        need_id=need_id,
        company_id="co-1",
        proposals=(proposal,),
        taxonomy_version="t1",
    )
    return wrap(event, source="matching")


async def test_a_group_is_applied_in_stream_order_and_each_event_once(pool: Pool) -> None:
    first = company("co-order", "Erster Name")
    second = company("co-order", "Zweiter Name", update=True)
    third = company("co-order", "Dritter Name", update=True)
    shown = proposed("need-1", "prov-once")
    freshness = Freshness()
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO providers (provider_id, name, updated_at) VALUES ('prov-once', 'P', now())"
        )
    # Arrived out of order, one of them twice: the group sorts by stream sequence.
    arrivals = [
        Arrival(3, third),
        Arrival(1, first),
        Arrival(4, shown),
        Arrival(2, second),
        Arrival(4, shown),
    ]
    outcomes = await project_group(pool, freshness, SPEC, arrivals)
    # Delivered again (a redelivery after a lost ack): the inbox drops every one of them.
    await project_group(pool, freshness, SPEC, arrivals[:3])

    async with pool.acquire() as conn:
        name = await conn.fetchval("SELECT name FROM companies WHERE company_id = 'co-order'")
        times_shown = await conn.fetchval(
            "SELECT shown FROM providers WHERE provider_id = 'prov-once'"
        )
        claimed = await conn.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = $1", SPEC.durable
        )
        progress = await conn.fetchval(
            "SELECT last_event_at FROM projection_state WHERE consumer = $1", SPEC.durable
        )
    assert outcomes == [None] * 5
    assert name == "Dritter Name"
    assert times_shown == 1
    assert claimed == 4
    newest = max(e.time for e in (first, second, third, shown))
    assert progress == newest
    assert freshness.last_event[SPEC.durable] == newest


async def test_an_event_that_fails_fails_alone_and_the_rest_of_its_group_commits(
    pool: Pool,
) -> None:
    freshness = Freshness()
    groups: GroupCommit[Arrival, None] = GroupCommit(
        lambda arrivals: project_group(pool, freshness, SPEC, arrivals), max_size=32
    )
    good = [company(f"co-good-{i}", f"Firma {i}") for i in range(6)]
    bad = company("co-bad", "Zu groß", size=2**40)  # out of the column's range
    arrivals = [Arrival(i, e) for i, e in enumerate([*good[:3], bad, *good[3:]], start=1)]

    outcomes = await asyncio.gather(
        *(groups.submit(arrival) for arrival in arrivals), return_exceptions=True
    )

    async with pool.acquire() as conn:
        stored = await conn.fetch("SELECT company_id FROM companies ORDER BY company_id")
        claimed = await conn.fetch("SELECT event_id FROM inbox WHERE consumer = $1", SPEC.durable)
    assert [o for o in outcomes if isinstance(o, BaseException)] == [outcomes[3]]
    assert isinstance(outcomes[3], Exception)
    assert [r["company_id"] for r in stored] == sorted(e.data.company_id for e in good)
    assert {r["event_id"] for r in claimed} == {e.id for e in good}


async def test_a_burst_of_events_reaches_the_read_model_in_order_with_its_lag_reported(
    stack: StackInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in stack.service_env("CONSOLE_").items():
        monkeypatch.setenv(key, value)
    settings = ConsoleSettings(db_schema=f"console_burst_{uuid.uuid4().hex[:6]}")
    company_id = f"co-burst-{uuid.uuid4().hex[:6]}"
    events = [company(company_id, "Name 0")]
    events += [company(company_id, f"Name {i}", update=True) for i in range(1, 300)]
    events += [company(f"{company_id}-{i}", f"Firma {i}") for i in range(200)]
    async with in_process(build(settings)) as running:
        runtime = running.runtime
        async with nats_client(stack.nats_url) as client:
            for event in events:  # one after another: the stream keeps this order
                await publish(client, event)

        async def all_applied() -> bool:
            count = await runtime.pool.fetchval(
                "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[])",
                SPEC.durable,
                [e.id for e in events],
            )
            return bool(count == len(events))

        await eventually(all_applied, timeout=120)
        name = await runtime.pool.fetchval(
            "SELECT name FROM companies WHERE company_id = $1", company_id
        )
        freshness: Freshness = runtime.state["freshness"]
        lag = handlers.LAG.labels(SPEC.durable)._value.get()
    assert name == "Name 299"
    assert freshness.last_event[SPEC.durable] >= events[-1].time
    assert 0 <= lag < timedelta(minutes=5).total_seconds()
    assert freshness.last_event[SPEC.durable] <= datetime.now(UTC)


async def test_lists_sorted_by_time_page_on_with_the_cursor_of_a_full_page(pool: Pool) -> None:
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        for i in range(3):
            at = now - timedelta(minutes=i)
            await conn.execute(
                "INSERT INTO needs (need_id, company_id, title, updated_at) "
                "VALUES ($1, 'c', 'Bedarf', $2)",
                f"need-{i}",
                at,
            )
            await conn.execute(
                "INSERT INTO meetings (meeting_id, match_id, need_id, title, starts_at, ends_at, "
                "updated_at) VALUES ($1, 'm', 'n', 't', $2, $2, $2)",
                f"mtg-{i}",
                at,
            )
            await conn.execute(
                "INSERT INTO deliveries (delivery_id, contact_id, channel, status, "
                "source_event_type, at) VALUES ($1, 'c', 'email', 'failed', 'x', $2)",
                f"dlv-{i}",
                at,
            )

        async def fetch(name: str, cursor: Cursor | None) -> queries.Page:
            if name == "needs":
                return await queries.needs(
                    conn, text="", status="", category="", district="", since=None,
                    sort=queries.NEED_SORTS["neu"], cursor=cursor, limit=2,
                )  # fmt: skip
            if name == "meetings":
                return await queries.meetings(
                    conn, status="", venue="", since=None, until=None,
                    sort=queries.MEETING_SORTS["beginn"], cursor=cursor, limit=2,
                )  # fmt: skip
            return await queries.deliveries(conn, status="", cursor=cursor, limit=2)

        seen = {}
        for name in ("needs", "meetings", "deliveries"):
            first = await fetch(name, None)
            assert first.next_cursor is not None
            second = await fetch(name, decode_cursor(first.next_cursor))
            seen[name] = (len(first.rows), len(second.rows), second.next_cursor)
    assert seen == dict.fromkeys(("needs", "meetings", "deliveries"), (2, 1, None))


async def test_the_overview_counts_a_need_whose_last_run_proposed_nobody(pool: Pool) -> None:
    freshness = Freshness()
    empty = proposed("need-lonely", "prov-x")
    empty = empty.model_copy(update={"data": empty.data.model_copy(update={"proposals": ()})})
    later = proposed("need-lonely", "prov-x")
    now = datetime.now(UTC)
    counts = []
    async with pool.acquire() as conn:
        await project_group(pool, freshness, SPEC, [Arrival(1, empty)])
        counts.append((await queries.overview(conn, now, now, now))["no_proposal"])
        await project_group(pool, freshness, SPEC, [Arrival(2, later)])
        counts.append((await queries.overview(conn, now, now, now))["no_proposal"])
    assert counts == [1, 0]

"""Crashes and the outbox: nothing is lost, nothing happens twice."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient

from shared.db import create_pool, transaction
from shared.events.base import wrap
from shared.messaging.outbox import OutboxRelay, enqueue
from shared.migrations import migrate, migrations_for
from shared.service import create_broker
from shared.settings import ServiceSettings
from tests.support.harness import ServiceProcess, eventually, nats_client, publish
from tests.support.probe import MIGRATIONS, ProbeHappened, probe_happened, probe_subject
from tests.support.streams import read_all
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(stack: StackInfo) -> AsyncIterator[NatsClient]:
    async with nats_client(stack.nats_url) as connected:
        yield connected


@pytest.fixture
async def probe_schema(stack: StackInfo) -> str:
    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, "probe", migrations_for(MIGRATIONS))
    finally:
        await conn.close()
    return "probe"


def probe_process(stack: StackInfo, run: str) -> ServiceProcess:
    env = {
        "PROBE_NATS_URL": stack.nats_url,
        "PROBE_DATABASE_URL": stack.database_url,
        "PROBE_RUN": run,
        "PROBE_DB_SCHEMA": "probe",
        "PROBE_HTTP_HOST": "127.0.0.1",
    }
    return ServiceProcess("tests.support.probe", env, "PROBE_HTTP_PORT")


async def test_an_event_whose_consumer_is_killed_before_the_ack_is_handled_once_after_restart(
    stack: StackInfo, client: NatsClient, db: asyncpg.Connection
) -> None:
    run = uuid.uuid4().hex[:12]
    process = probe_process(stack, run)
    await process.start()
    try:
        event = wrap(probe_happened(run, action="slow", seconds=1.5), source="tests")
        await publish(client, event, probe_subject(run))

        async def handler_started() -> bool:
            count: int = await db.fetchval(
                "SELECT count(*) FROM probe.attempts WHERE event_id = $1", event.id
            )
            return count >= 1

        await eventually(handler_started)
        process.kill()  # inside the handler's transaction: no commit, no ack
        assert (
            await db.fetchval("SELECT count(*) FROM probe.effects WHERE event_id = $1", event.id)
            == 0
        )

        await process.start()

        async def handled() -> bool:
            count: int = await db.fetchval(
                "SELECT count(*) FROM probe.effects WHERE event_id = $1", event.id
            )
            return count >= 1

        await eventually(handled, timeout=30)
        await asyncio.sleep(2.5)  # longer than ack_wait: a missing ack would show as a redelivery
        assert (
            await db.fetchval("SELECT count(*) FROM probe.effects WHERE event_id = $1", event.id)
            == 1
        )
    finally:
        process.stop()


async def test_a_state_change_and_its_event_commit_together_and_a_rollback_publishes_nothing(
    stack: StackInfo, client: NatsClient, probe_schema: str
) -> None:
    subject = f"matching.outbox.{uuid.uuid4().hex[:12]}"
    pool = await create_pool(stack.database_url, probe_schema)
    broker = create_broker(ServiceSettings(nats_url=stack.nats_url))
    await broker.connect()
    relay = OutboxRelay(pool, broker, service="probe", schema=probe_schema, poll_seconds=0.1)
    await relay.start()
    try:
        committed = wrap(ProbeHappened(), source="tests")
        async with transaction(pool) as conn:
            await conn.execute(
                "INSERT INTO things (id, name) VALUES ($1, 'kept')", str(committed.id)
            )
            await enqueue(conn, committed, subject)

        rolled_back = wrap(ProbeHappened(), source="tests")
        with pytest.raises(RuntimeError):
            async with transaction(pool) as conn:
                await conn.execute(
                    "INSERT INTO things (id, name) VALUES ($1, 'lost')", str(rolled_back.id)
                )
                await enqueue(conn, rolled_back, subject)
                raise RuntimeError("the unit of work fails after writing")

        async def published() -> bool:
            return len(await read_all(client, "MATCHING", subject, idle=0.2)) >= 1

        await eventually(published)
        await asyncio.sleep(0.5)
        messages = await read_all(client, "MATCHING", subject)
        assert [msg.headers["Nats-Msg-Id"] for msg in messages if msg.headers] == [
            str(committed.id)
        ]
        assert (
            await pool.fetchval("SELECT count(*) FROM things WHERE id = $1", str(rolled_back.id))
            == 0
        )
        assert (
            await pool.fetchval("SELECT count(*) FROM outbox WHERE event_id = $1", rolled_back.id)
            == 0
        )
    finally:
        await relay.stop()
        await broker.stop()
        await pool.close()


async def test_a_relay_killed_mid_publish_loses_nothing_and_duplicates_nothing(
    stack: StackInfo, client: NatsClient, db: asyncpg.Connection, probe_schema: str
) -> None:
    run = uuid.uuid4().hex[:12]
    subject = f"matching.outbox.{run}"
    envelopes = [wrap(ProbeHappened(), source="tests") for _ in range(3000)]
    await db.execute("SET search_path TO probe")
    async with db.transaction():
        for envelope in envelopes:
            await enqueue(db, envelope, subject)

    process = probe_process(stack, run)
    await process.start()

    async def some_published() -> bool:
        count: int = await db.fetchval(
            "SELECT count(*) FROM probe.outbox WHERE subject = $1 AND published_at IS NOT NULL",
            subject,
        )
        return count > 0

    await eventually(some_published, interval=0.01)
    process.kill()
    pending_after_kill: int = await db.fetchval(
        "SELECT count(*) FROM probe.outbox WHERE subject = $1 AND published_at IS NULL", subject
    )

    await process.start()
    try:

        async def all_published() -> bool:
            count: int = await db.fetchval(
                "SELECT count(*) FROM probe.outbox WHERE subject = $1 AND published_at IS NULL",
                subject,
            )
            return count == 0

        await eventually(all_published, timeout=60)
    finally:
        process.stop()
    messages = await read_all(client, "MATCHING", subject)
    ids = Counter(msg.headers["Nats-Msg-Id"] for msg in messages if msg.headers)
    assert pending_after_kill > 0, "the kill should have interrupted the relay"
    assert set(ids) == {str(envelope.id) for envelope in envelopes}
    assert max(ids.values()) == 1

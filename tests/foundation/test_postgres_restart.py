"""A real PostgreSQL restart: the outbox relay listens again and says so in a metric."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from prometheus_client import REGISTRY

from shared.db import create_pool, transaction
from shared.events.base import wrap
from shared.events.streams import ALL_STREAMS
from shared.messaging.outbox import OutboxRelay, enqueue
from shared.messaging.publisher import ensure_streams
from shared.migrations import migrate, migrations_for
from shared.service import create_broker
from shared.settings import ServiceSettings
from tests.support.harness import eventually, nats_client
from tests.support.probe import MIGRATIONS, probe_happened
from tests.support.streams import read_all
from werkbank.stack import EmbeddedStack, StackInfo

pytestmark = pytest.mark.integration
SERVICE = "relay-restart"


@pytest.fixture
async def client(stack: StackInfo) -> AsyncIterator[NatsClient]:
    async with nats_client(stack.nats_url) as connected:
        yield connected


def mode(which: str) -> float | None:
    return REGISTRY.get_sample_value(
        "werkbank_outbox_relay_mode", {"service": SERVICE, "mode": which}
    )


async def test_the_outbox_relay_listens_again_after_a_postgres_restart(
    running_stack: EmbeddedStack, stack: StackInfo, client: NatsClient
) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, "probe", migrations_for(MIGRATIONS))
    finally:
        await conn.close()
    pool = await create_pool(stack.database_url, "probe")
    broker = create_broker(ServiceSettings(nats_url=stack.nats_url))
    await broker.connect()
    await ensure_streams(broker, ALL_STREAMS)
    # Polling alone would take 30 s: anything faster was woken by a notification.
    relay = OutboxRelay(pool, broker, service=SERVICE, schema="probe", poll_seconds=30)
    await relay.start()
    try:
        await eventually(_notified(relay))
        assert (mode("notified"), mode("polling")) == (1, 0)

        await asyncio.to_thread(running_stack.postgres.restart)
        await eventually(_polling(relay), timeout=5)
        await eventually(_notified(relay), timeout=15)
        assert (mode("notified"), mode("polling")) == (1, 0)

        subject = f"matching.probe.{SERVICE}.happened"
        envelope = wrap(probe_happened(SERVICE), source="tests")
        committed = time.monotonic()
        async with transaction(pool) as db:
            await enqueue(db, envelope, subject)

        async def published() -> bool:
            found = await read_all(client, "MATCHING", subject, idle=0.1)
            return any(m.headers and m.headers["Nats-Msg-Id"] == str(envelope.id) for m in found)

        await eventually(published, timeout=10)
        assert time.monotonic() - committed < 5, "published by polling, not by a notification"
    finally:
        await relay.stop()
        await broker.stop()
        await pool.close()


def _notified(relay: OutboxRelay) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return relay.notified

    return check


def _polling(relay: OutboxRelay) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return not relay.notified

    return check

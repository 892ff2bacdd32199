"""Foundation figures: outbox relay throughput against raw JetStream publishing."""

from __future__ import annotations

import time
import uuid

import asyncpg
import nats

from bench.common import BenchContext, Figure
from shared.db import create_pool
from shared.events.base import wrap
from shared.events.streams import ALL_STREAMS
from shared.messaging.outbox import OutboxRelay, enqueue
from shared.messaging.publisher import ensure_streams, headers_for
from shared.migrations import migrate, migrations_for
from shared.service import create_broker
from shared.settings import ServiceSettings
from tests.support.probe import MIGRATIONS, ProbeHappened

EVENTS = 5000


async def run(context: BenchContext) -> list[Figure]:
    stack = context.stack()
    schema = "bench_outbox"
    conn = await asyncpg.connect(stack.database_url)
    await migrate(conn, schema, migrations_for(MIGRATIONS))
    await conn.close()
    envelopes = [wrap(ProbeHappened(), source="bench") for _ in range(EVENTS)]
    subject = f"matching.bench.{uuid.uuid4().hex[:8]}"

    broker = create_broker(ServiceSettings(nats_url=stack.nats_url))
    await broker.connect()
    await ensure_streams(broker, ALL_STREAMS)

    raw = await nats.connect(stack.nats_url)
    js = raw.jetstream()
    started = time.perf_counter()
    for index in range(0, EVENTS, 200):
        chunk = envelopes[index : index + 200]
        for envelope in chunk:
            await js.publish(subject + ".raw", envelope.to_bytes(), headers=headers_for(envelope))
    raw_rate = EVENTS / (time.perf_counter() - started)
    await raw.drain()

    pool = await create_pool(stack.database_url, schema, min_size=1, max_size=4)
    async with pool.acquire() as conn, conn.transaction():
        for envelope in envelopes:
            await enqueue(conn, envelope, subject + ".outbox")
    relay = OutboxRelay(pool, broker, service="bench", schema=schema, batch_size=500)
    started = time.perf_counter()
    while await relay.relay_once():
        pass
    relay_rate = EVENTS / (time.perf_counter() - started)
    await broker.stop()
    await pool.close()
    return [
        Figure(
            "outbox_relay_events_per_s",
            relay_rate,
            "events/s",
            baseline=raw_rate,
            note="baseline: sequential raw JetStream publish",
        ),
    ]

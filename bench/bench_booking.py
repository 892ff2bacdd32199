"""booking figure: match accepted events in, confirmed meetings out, against raw nats-py + asyncpg.

The service runs as its own processes (replicas share the durable consumer, one per core, as
deployed) on the embedded stack, with a venue of 40 rooms and 400 providers, each match with its
own company, so that slots rarely collide. The figure is the rate from the first published event
until the outbox has published the last MeetingConfirmed. The baseline, measured in the same run,
consumes the same events with a plain pull subscriber and inserts the meeting and its three
allocation rows directly: no slot search, no calendar objects, no outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import nats
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from bench.common import BenchContext, Figure
from services.booking.app import build
from shared.events.base import Envelope, wrap
from shared.events.matching import MatchAccepted
from shared.events.streams import BOOKING_ON_MATCHING, MATCHING_STREAM
from shared.migrations import migrate, migrations_for
from tests.booking.test_booking_flow import match_accepted
from tests.support.harness import ServiceProcess, nats_client, publish
from werkbank.stack import StackInfo

EVENTS = 2000
PROVIDERS = 400
ROOMS = 40
REPLICAS = 2
SUBJECT = "matching.match.accepted"


def events() -> list[Envelope[MatchAccepted]]:
    return [
        wrap(match_accepted(f"p-{i % PROVIDERS}", company_id=f"co-{i}"), source="matching")
        for i in range(EVENTS)
    ]


async def fresh_consumer(stack: StackInfo) -> None:
    """No events or consumer state left from an earlier run on this stack."""
    async with nats_client(stack.nats_url) as client:
        js = client.jetstream()
        with contextlib.suppress(NotFoundError):
            await js.purge_stream(MATCHING_STREAM.name, subject=SUBJECT)
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(MATCHING_STREAM.name, BOOKING_ON_MATCHING.durable)


async def start_service(stack: StackInfo, schema: str) -> list[ServiceProcess]:
    env = {
        **stack.service_env("BOOKING_"),
        "BOOKING_DB_SCHEMA": schema,
        "BOOKING_STAFF_TOKEN": "bench",
        "BOOKING_STATIC_TOKEN_ENABLED": "true",
        "BOOKING_RSVP_SECRET": "bench",
        "BOOKING_LOG_LEVEL": "WARNING",
        "BOOKING_REMINDER_POLL_SECONDS": "60",
    }
    processes = [
        ServiceProcess("services.booking", env, "BOOKING_HTTP_PORT") for _ in range(REPLICAS)
    ]
    for process in processes:  # one after the other: the first applies the migrations
        await process.start()
    venue = {
        "name": "Bench-Werkbank",
        "address": "Königswall 21, 44137 Dortmund",
        "rooms": [{"room_id": f"r{i}", "name": f"Raum {i}"} for i in range(ROOMS)],
    }
    headers = {"Authorization": "Bearer bench"}
    async with httpx.AsyncClient(base_url=processes[0].base_url, headers=headers) as staff:
        (await staff.put("/api/booking/venues/bench", json=venue)).raise_for_status()
    return processes


async def confirmed(conn: asyncpg.Connection, schema: str) -> int:
    count: int = await conn.fetchval(
        f"SELECT count(*) FROM {schema}.outbox "
        "WHERE subject = 'booking.meeting.confirmed' AND published_at IS NOT NULL"
    )
    return count


async def service_rate(stack: StackInfo) -> float:
    schema = f"bench_booking_{uuid.uuid4().hex[:6]}"
    await fresh_consumer(stack)
    processes = await start_service(stack, schema)
    conn = await asyncpg.connect(stack.database_url)
    try:
        started = time.perf_counter()
        async with nats_client(stack.nats_url) as client:
            await asyncio.gather(*(publish(client, event) for event in events()))
        while await confirmed(conn, schema) < EVENTS:  # noqa: ASYNC110 - counted in the DB
            await asyncio.sleep(0.05)
        return EVENTS / (time.perf_counter() - started)
    finally:
        await conn.close()
        for process in processes:
            process.stop()


_INSERT_MEETING = """
INSERT INTO meetings (meeting_id, match_id, uid, sequence, status, starts_at, ends_at, details)
VALUES ($1, $2, $3, 0, 'confirmed', $4, $5, $6::text::jsonb)
"""
_INSERT_ALLOCATIONS = """
INSERT INTO allocations (meeting_id, resource_key, span)
SELECT $1, r.resource_key, tstzrange($3, $4) FROM resources r WHERE r.resource_id = ANY($2)
"""
_RESOURCES = """
INSERT INTO resources (resource_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING
"""


async def raw_rate(stack: StackInfo, workers: int = 8) -> float:
    """The same inserts with nats-py and asyncpg only; each event gets its own slot."""
    schema = f"bench_booking_raw_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(stack.database_url)
    await migrate(conn, schema, migrations_for(build().migrations))
    await conn.close()
    pool = await asyncpg.create_pool(
        stack.database_url,
        min_size=workers,
        max_size=workers,
        server_settings={"search_path": schema},
    )
    assert pool is not None
    batch = events()
    day = datetime(2030, 1, 7, 9, tzinfo=UTC)
    async with pool.acquire() as setup:
        resources = [f"provider:p-{i}" for i in range(PROVIDERS)]
        resources += [f"company:co-{i}" for i in range(EVENTS)] + [
            f"room:r{i}" for i in range(ROOMS)
        ]
        await setup.execute(_RESOURCES, resources)

    async def insert(index: int, body: dict[str, Any]) -> None:
        data = body["data"]
        start = day + timedelta(hours=2 * (index // ROOMS))
        keys = [
            f"provider:{data['provider']['party_id']}",
            f"company:{data['company']['party_id']}",
            f"room:r{index % ROOMS}",
        ]
        async with pool.acquire() as db, db.transaction():
            meeting_id = f"mtg-{uuid.uuid4().hex[:12]}"
            await db.execute(
                _INSERT_MEETING,
                meeting_id,
                data["match_id"],
                f"{meeting_id}@werkbank",
                start,
                start + timedelta(hours=1),
                json.dumps(data),
            )
            await db.execute(
                _INSERT_ALLOCATIONS, meeting_id, keys, start, start + timedelta(hours=1)
            )

    await fresh_consumer(stack)
    client = await nats.connect(stack.nats_url)
    js = client.jetstream()
    durable = f"bench-raw-{uuid.uuid4().hex[:6]}"
    started = time.perf_counter()
    await asyncio.gather(*(js.publish(SUBJECT, e.to_bytes()) for e in batch))
    sub = await js.pull_subscribe(
        SUBJECT, durable=durable, stream=MATCHING_STREAM.name, config=ConsumerConfig()
    )
    order = {str(event.id): index for index, event in enumerate(batch)}
    done = 0
    while done < EVENTS:
        messages = await sub.fetch(256, timeout=5)
        mine = []
        for msg in messages:
            body = json.loads(msg.data)
            if body["id"] in order:
                mine.append((order[body["id"]], body, msg))
            else:
                await msg.ack()
        for chunk in range(0, len(mine), workers):
            part = mine[chunk : chunk + workers]
            await asyncio.gather(*(insert(index, body) for index, body, _ in part))
            await asyncio.gather(*(msg.ack() for _, _, msg in part))
        done += len(mine)
    rate = EVENTS / (time.perf_counter() - started)
    await client.close()
    await pool.close()
    return rate


async def run(context: BenchContext) -> list[Figure]:
    stack = context.stack()
    rate = await service_rate(stack)
    print(f"# booking service: {rate:.1f} meetings/s", flush=True)
    baseline = await raw_rate(stack)
    return [
        Figure(
            "booking_meetings_per_s",
            rate,
            "meetings/s",
            baseline=baseline,
            goal=">= 300/s",
            note=f"ratio={rate / baseline:.2f}; {REPLICAS} replicas, {EVENTS} events, "
            "baseline: raw nats-py pull + asyncpg inserts",
        )
    ]

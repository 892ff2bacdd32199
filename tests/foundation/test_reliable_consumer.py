"""The shared consumer plumbing against a real nats-server and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import AckPolicy, ConsumerConfig

from shared.events.base import Envelope, wrap
from shared.events.deadletter import EventDeadLettered
from shared.messaging.exhausted import ExhaustedDeliveriesListener
from tests.support.harness import RunningService, eventually, in_process, nats_client, publish
from tests.support.probe import (
    ProbeHappened,
    ProbeSettings,
    build,
    probe_happened,
    probe_spec,
    probe_subject,
)
from tests.support.streams import read_all
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


def probe_settings(stack: StackInfo, run: str) -> ProbeSettings:
    return ProbeSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        run=run,
        db_schema="probe",
    )


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
async def probe(stack: StackInfo, run_id: str) -> AsyncIterator[RunningService]:
    async with in_process(build(probe_settings(stack, run_id))) as running:
        yield running


@pytest.fixture
async def client(stack: StackInfo) -> AsyncIterator[NatsClient]:
    async with nats_client(stack.nats_url) as connected:
        yield connected


def probe_event(run: str, action: str = "ok", **extra: Any) -> Envelope[ProbeHappened]:
    return wrap(probe_happened(run, action=action, **extra), source="tests")


async def effects(db: asyncpg.Connection, event_id: uuid.UUID) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM probe.effects WHERE event_id = $1", event_id
    )
    return count


async def attempts(db: asyncpg.Connection, event_id: uuid.UUID) -> list[Any]:
    rows = await db.fetch("SELECT at FROM probe.attempts WHERE event_id = $1 ORDER BY at", event_id)
    return [row["at"] for row in rows]


async def dead_letters(client: NatsClient, run: str) -> list[EventDeadLettered]:
    messages = await read_all(client, "DEADLETTER", probe_spec(run).dead_letter_subject)
    return [Envelope[EventDeadLettered].model_validate_json(msg.data).data for msg in messages]


async def test_an_event_published_twice_with_the_same_id_is_handled_once(
    probe: RunningService, client: NatsClient, db: asyncpg.Connection, run_id: str
) -> None:
    event = probe_event(run_id)
    first = await publish(client, event, probe_subject(run_id))
    second = await publish(client, event, probe_subject(run_id))
    assert second.duplicate, "JetStream should recognise the second publish as a duplicate"
    assert first.seq == second.seq

    async def handled() -> bool:
        return await effects(db, event.id) == 1

    await eventually(handled)
    later = probe_event(run_id)
    await publish(client, later, probe_subject(run_id))
    await eventually(lambda: _has_effect(db, later.id))
    assert await effects(db, event.id) == 1


async def _has_effect(db: asyncpg.Connection, event_id: uuid.UUID) -> bool:
    return await effects(db, event_id) > 0


async def test_a_redelivered_event_is_acknowledged_without_a_second_effect(
    probe: RunningService, client: NatsClient, db: asyncpg.Connection, run_id: str
) -> None:
    event = probe_event(run_id)
    # Two different message ids carrying the same event id: JetStream stores both,
    # so only the inbox stands between the handler and a second effect.
    await publish(client, event, probe_subject(run_id))
    js = client.jetstream()
    await js.publish(
        probe_subject(run_id), event.to_bytes(), headers={"Nats-Msg-Id": f"{event.id}-again"}
    )
    await eventually(lambda: _attempted(db, event.id, 2))
    assert await effects(db, event.id) == 1


async def _attempted(db: asyncpg.Connection, event_id: uuid.UUID, times: int) -> bool:
    return len(await attempts(db, event_id)) >= times


async def test_a_failing_handler_is_retried_with_a_delay_then_dead_lettered_with_its_reason(
    probe: RunningService, client: NatsClient, db: asyncpg.Connection, run_id: str
) -> None:
    spec = probe_spec(run_id)
    event = probe_event(run_id, "fail")
    await publish(client, event, probe_subject(run_id))

    async def dead_lettered() -> bool:
        return len(await dead_letters(client, run_id)) == 1

    await eventually(dead_lettered, timeout=30)
    tried = await attempts(db, event.id)
    assert len(tried) == spec.max_deliver
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(tried)]
    for gap, delay in zip(gaps, spec.backoff, strict=False):
        assert gap >= delay * 0.9, f"redelivered after {gap:.2f} s, expected a delay of {delay} s"
    [letter] = await dead_letters(client, run_id)
    assert letter.reason == "RuntimeError: this probe always fails"
    assert letter.deliveries == spec.max_deliver
    assert letter.original_msg_id == str(event.id)
    assert letter.original_headers["Nats-Msg-Id"] == str(event.id)
    assert json.loads(letter.original_body)["id"] == str(event.id)
    assert await effects(db, event.id) == 0


async def test_a_permanent_error_is_dead_lettered_without_retries(
    probe: RunningService, client: NatsClient, db: asyncpg.Connection, run_id: str
) -> None:
    event = probe_event(run_id, "permanent")
    await publish(client, event, probe_subject(run_id))

    async def dead_lettered() -> bool:
        return len(await dead_letters(client, run_id)) == 1

    await eventually(dead_lettered)
    assert len(await attempts(db, event.id)) == 1
    [letter] = await dead_letters(client, run_id)
    assert letter.error_type == "PermanentError"


async def test_an_invalid_payload_is_dead_lettered_at_once_and_the_consumer_goes_on(
    probe: RunningService, client: NatsClient, db: asyncpg.Connection, run_id: str
) -> None:
    bad = probe_event(run_id)
    broken_body = bad.to_bytes().replace(b'"action":"ok"', b'"action":"explode"')
    await publish(client, bad, probe_subject(run_id), body=broken_body)
    not_json = probe_event(run_id)
    await publish(client, not_json, probe_subject(run_id), body=b"{this is not json")
    good = probe_event(run_id)
    await publish(client, good, probe_subject(run_id))

    await eventually(lambda: _has_effect(db, good.id))

    async def both_dead_lettered() -> bool:
        return len(await dead_letters(client, run_id)) == 2

    await eventually(both_dead_lettered)
    letters = {letter.original_msg_id: letter for letter in await dead_letters(client, run_id)}
    assert "data.action" in letters[str(bad.id)].reason
    assert letters[str(bad.id)].deliveries == 1
    assert "JSON" in letters[str(not_json.id)].reason or "json" in letters[str(not_json.id)].reason
    assert await effects(db, bad.id) == 0


async def test_health_readiness_and_metrics_answer(probe: RunningService) -> None:
    async with probe.client() as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = (await http.get("/readyz")).json()
        assert ready == {"status": "ready", "checks": {"nats": True, "database": True}}
        metrics = (await http.get("/metrics")).text
        assert "werkbank_events_handled_total" in metrics


async def test_an_event_never_acknowledged_is_dead_lettered_when_its_deliveries_run_out(
    probe: RunningService, client: NatsClient, db: asyncpg.Connection, run_id: str
) -> None:
    # A second consumer that fetches but never acks stands in for a process that dies on
    # every delivery; the server gives up after max_deliver and only says so in an advisory.
    spec = probe_spec(f"{run_id}x")
    js = client.jetstream()
    await js.add_consumer(
        spec.stream.name,
        ConsumerConfig(
            durable_name=spec.durable,
            filter_subject=spec.subject,
            ack_wait=0.5,
            max_deliver=2,
            ack_policy=AckPolicy.EXPLICIT,
        ),
    )
    listener = ExhaustedDeliveriesListener(client, [spec])
    await listener.start(probe.runtime.broker)
    try:
        event = probe_event(f"{run_id}x")
        await publish(client, event, spec.subject)
        sub = await js.pull_subscribe_bind(spec.durable, spec.stream.name)
        for _ in range(3):  # the third pull finds the event exhausted
            with contextlib.suppress(TimeoutError):
                await sub.fetch(1, timeout=1.0)
        await sub.unsubscribe()

        async def dead_lettered() -> bool:
            return len(await dead_letters(client, f"{run_id}x")) == 1

        await eventually(dead_lettered, timeout=15)
        [letter] = await dead_letters(client, f"{run_id}x")
        assert letter.original_msg_id == str(event.id)
        assert "no acknowledgement after 2 deliveries" in letter.reason
        assert json.loads(letter.original_body)["id"] == str(event.id)
    finally:
        await listener.stop()


async def test_the_cli_lists_dead_letters_with_their_reason_and_replays_them(
    probe: RunningService, client: NatsClient, db: asyncpg.Connection, run_id: str, stack: StackInfo
) -> None:
    from typer.testing import CliRunner

    from werkbank.cli import app

    event = probe_event(run_id, "permanent")
    await publish(client, event, probe_subject(run_id))

    async def dead_lettered() -> bool:
        return len(await dead_letters(client, run_id)) == 1

    await eventually(dead_lettered)
    # The CLI runs its own event loop, so it gets a thread of its own here.
    listed = await asyncio.to_thread(
        CliRunner().invoke, app, ["dead-letters", "--json", "--nats-url", stack.nats_url]
    )
    assert listed.exit_code == 0, (listed.output, listed.exception)
    rows = [row for row in json.loads(listed.output) if row["event_id"] == str(event.id)]
    assert rows[0]["reason"] == "PermanentError: this probe can never succeed"
    before = len(await attempts(db, event.id))
    replayed = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["dead-letters", "--replay", "--json", "--nats-url", stack.nats_url],
    )
    assert replayed.exit_code == 0, (replayed.output, replayed.exception)

    async def handled_again() -> bool:
        return len(await attempts(db, event.id)) > before

    await eventually(handled_again)


async def test_a_handler_that_takes_longer_than_the_ack_wait_keeps_its_event(
    probe: RunningService, client: NatsClient, db: asyncpg.Connection, run_id: str
) -> None:
    # The probe's ack wait is 2 s: without progress reports the server would redeliver the
    # event twice while the first delivery is still at work.
    spec = probe_spec(run_id)
    assert spec.ack_wait.total_seconds() == 2
    event = probe_event(run_id, "slow", seconds=5.0)
    await publish(client, event, probe_subject(run_id))
    await eventually(lambda: _has_effect(db, event.id), timeout=15)
    assert len(await attempts(db, event.id)) == 1


def test_every_service_consumer_redelivers_after_a_crash_within_ten_seconds() -> None:
    from shared.events import streams

    specs = [v for v in vars(streams).values() if isinstance(v, streams.ConsumerSpec)]
    assert specs
    assert all(spec.ack_wait.total_seconds() <= 10 for spec in specs)

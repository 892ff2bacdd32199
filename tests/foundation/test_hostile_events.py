"""Malformed events against a running consumer: each is dead-lettered at once with its reason."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import psutil
import pytest
from nats.aio.client import Client as NatsClient

from shared.events.base import Envelope, wrap
from shared.events.deadletter import EventDeadLettered
from shared.messaging.consumer import DEAD_LETTER_BODY_LIMIT
from tests.support.harness import (
    RunningService,
    ServiceProcess,
    eventually,
    in_process,
    nats_client,
)
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


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
async def probe(stack: StackInfo, run_id: str) -> AsyncIterator[RunningService]:
    settings = ProbeSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        run=run_id,
        db_schema="probe",
    )
    async with in_process(build(settings)) as running:
        yield running


@pytest.fixture
async def client(stack: StackInfo) -> AsyncIterator[NatsClient]:
    async with nats_client(stack.nats_url) as connected:
        yield connected


def valid(run: str, **fields: Any) -> Envelope[ProbeHappened]:
    return wrap(probe_happened(run, **fields), source="tests")


async def send(client: NatsClient, subject: str, body: bytes, msg_id: str) -> None:
    await client.jetstream().publish(subject, body, headers={"Nats-Msg-Id": msg_id})


async def letters_of(client: NatsClient, run: str) -> dict[str, EventDeadLettered]:
    messages = await read_all(client, "DEADLETTER", probe_spec(run).dead_letter_subject)
    found = [Envelope[EventDeadLettered].model_validate_json(m.data).data for m in messages]
    return {letter.original_msg_id or "": letter for letter in found}


def without(envelope: Envelope[Any], field: str) -> bytes:
    wire = envelope.model_dump(mode="json")
    del wire[field]
    return json.dumps(wire).encode()


def changed(envelope: Envelope[Any], **fields: Any) -> bytes:
    return json.dumps(envelope.model_dump(mode="json") | fields).encode()


async def test_each_kind_of_malformed_event_is_dead_lettered_at_once_with_its_reason(
    probe: RunningService, client: NatsClient, run_id: str
) -> None:
    subject = probe_subject(run_id)
    event = valid(run_id)
    # Close to the NATS max payload: a dead letter carrying it whole could not be published.
    oversized = changed(event, padding="x" * 1_000_000)
    cases: dict[str, tuple[str, bytes, str]] = {
        "no-id": (subject, without(event, "id"), "invalid payload: envelope.id: Field required"),
        "no-time": (
            subject,
            without(event, "time"),
            "invalid payload: envelope.time: Field required",
        ),
        "version-99": (
            subject,
            changed(event, schemaversion=99),
            "invalid payload: envelope: Value error, unknown schema version 99 of ",
        ),
        "wrong-subject": (
            f"matching.probe.{run_id}.junk",
            event.to_bytes(),
            f"event type '{subject}' does not match its subject 'matching.probe.{run_id}.junk'",
        ),
        "oversized": (subject, oversized, f"event too large: {len(oversized)} bytes"),
        "deep": (
            subject,
            changed(event, data=json.loads("[" * 500 + "]" * 500)),
            "invalid JSON: nested deeper than 32 levels",
        ),
        "not-json": (subject, b"\xff\xfe{", "invalid JSON: not UTF-8 at byte 0"),
        "wrong-type": (
            subject,
            changed(event, data={"type": subject, "action": "ok", "seconds": "soon"}),
            "invalid payload: envelope.data.seconds: Input should be a valid number",
        ),
    }
    for msg_id, (on, body, _) in cases.items():
        await send(client, on, body, f"{run_id}-{msg_id}")

    async def all_dead_lettered() -> bool:
        return len(await letters_of(client, run_id)) == len(cases)

    await eventually(all_dead_lettered, timeout=20)
    letters = await letters_of(client, run_id)
    for msg_id, (_, _, reason) in cases.items():
        letter = letters[f"{run_id}-{msg_id}"]
        assert letter.reason.startswith(reason), (msg_id, letter.reason)
        assert letter.deliveries == 1, msg_id
    big = letters[f"{run_id}-oversized"]
    assert big.original_truncated
    assert big.original_size == len(oversized)
    assert big.original_sha256 == hashlib.sha256(oversized).hexdigest()
    assert len(big.original_body) == DEAD_LETTER_BODY_LIMIT
    assert not letters[f"{run_id}-no-id"].original_truncated


async def test_junk_subjects_do_not_grow_the_metrics(
    probe: RunningService, client: NatsClient, run_id: str
) -> None:
    async with probe.client() as http:
        await send(client, probe_subject(run_id), valid(run_id).to_bytes(), f"{run_id}-first")
        await eventually(lambda: _dead_letters_at_least(client, run_id, 0))

        async def first_handled() -> bool:
            return f"probe-{run_id}" in (await http.get("/metrics")).text

        await eventually(first_handled)
        before = len((await http.get("/metrics")).text.splitlines())
        junk = 300
        for number in range(junk):
            on = f"matching.probe.{run_id}.junk{number}"
            await send(client, on, valid(run_id).to_bytes(), f"{run_id}-junk{number}")
        await eventually(lambda: _dead_letters_at_least(client, run_id, junk), timeout=30)
        metrics = (await http.get("/metrics")).text
    after = len(metrics.splitlines())
    assert "junk" not in metrics
    # A few new series (outcome "dead_lettered", the exception counter), never one per subject.
    assert after - before < 40, (before, after)


async def _dead_letters_at_least(client: NatsClient, run: str, count: int) -> bool:
    return len(await letters_of(client, run)) >= count


def hostile_bodies(run: str, number: int) -> list[tuple[str, bytes]]:
    """One malformed event of each kind, as (subject, body)."""
    subject = probe_subject(run)
    event = valid(run)
    return [
        (subject, without(event, "id")),
        (subject, without(event, "time")),
        (subject, changed(event, schemaversion=99)),
        (f"matching.probe.{run}.junk{number}", event.to_bytes()),
        (subject, changed(event, padding="x" * 400_000)),
        (subject, changed(event, data=json.loads("[" * 200 + "]" * 200))),
        (subject, b"\xff\xfe{" + str(number).encode()),
        (subject, b"{not json"),
        (subject, changed(event, data={"type": subject, "action": "ok", "seconds": "soon"})),
        (subject, changed(event, data={"type": subject, "action": "explode"})),
        (subject, changed(event, source="a\u0000b")),
    ]


async def test_hostile_events_are_dead_lettered_and_valid_ones_handled_once_in_bounded_memory(
    stack: StackInfo, client: NatsClient, run_id: str
) -> None:
    process = ServiceProcess(
        "tests.support.probe",
        {
            "PROBE_NATS_URL": stack.nats_url,
            "PROBE_DATABASE_URL": stack.database_url,
            "PROBE_RUN": run_id,
            "PROBE_DB_SCHEMA": "probe",
        },
        "PROBE_HTTP_PORT",
    )
    await process.start()
    try:
        assert process.process is not None
        memory = psutil.Process(process.process.pid)
        rss_before = memory.memory_info().rss
        malformed: list[str] = []
        good: list[Envelope[ProbeHappened]] = []
        for number in range(30):
            for kind, (on, body) in enumerate(hostile_bodies(run_id, number)):
                msg_id = f"{run_id}-bad-{number}-{kind}"
                await send(client, on, body, msg_id)
                malformed.append(msg_id)
            for _ in range(5):
                event = valid(run_id)
                await send(client, probe_subject(run_id), event.to_bytes(), str(event.id))
                # The same event again under another message id: only the inbox stops it.
                await send(client, probe_subject(run_id), event.to_bytes(), f"{event.id}-again")
                good.append(event)

        async def all_settled() -> bool:
            return len(await letters_of(client, run_id)) >= len(malformed)

        await eventually(all_settled, timeout=60, interval=0.5)
        letters = await letters_of(client, run_id)
        assert set(letters) == set(malformed)
        assert all(letter.reason and letter.deliveries == 1 for letter in letters.values())
        conn = await asyncpg.connect(stack.database_url)
        try:
            counts = await conn.fetch(
                "SELECT event_id, count(*) AS n FROM probe.effects WHERE run = $1 "
                "GROUP BY event_id",
                run_id,
            )
        finally:
            await conn.close()
        assert {row["event_id"]: row["n"] for row in counts} == {e.id: 1 for e in good}
        grown = (memory.memory_info().rss - rss_before) / 2**20
        assert grown < 64, f"RSS grew by {grown:.0f} MiB"
    finally:
        process.stop()

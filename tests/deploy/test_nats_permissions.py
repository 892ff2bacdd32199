"""The per-service NATS users, enforced by a real nats-server.

The server runs the configuration from ``werkbank.nats_security.server_config``, the same table
the Helm values carry. A service user may publish and read only what its service needs: booking
cannot forge matching's events nor read notify's, and each real service starts, consumes and
dead-letters under its own user without a single permissions violation.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.errors import TimeoutError as NatsTimeoutError

from shared.events.base import Envelope
from shared.events.deadletter import EventDeadLettered
from shared.events.streams import ALL_STREAMS, ConsumerSpec
from tests.support.harness import eventually, in_process
from tests.support.streams import read_all
from werkbank.nats_security import CONSUMERS, OPS_USER, SERVICES, server_config
from werkbank.stack import NatsServer, StackInfo

pytestmark = pytest.mark.integration

PASSWORDS = {user: f"{user}-{uuid.uuid4().hex}" for user in (*SERVICES, OPS_USER)}
SETTINGS = {
    "matching": "MatchingSettings",
    "booking": "BookingSettings",
    "notify": "NotifySettings",
    "console": "ConsoleSettings",
}
# What a service refuses to start without, beyond NATS and the database.
REQUIRED: dict[str, dict[str, str]] = {
    "booking": {"public_base_url": "https://termine.example", "rsvp_secret": "perm-rsvp-secret"},
}


@pytest.fixture
def secured_nats(tmp_path: Path) -> Iterator[NatsServer]:
    store = tmp_path / "jetstream"
    server = NatsServer(store, config_text=server_config(PASSWORDS, jetstream_dir=store))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def violations(server: NatsServer) -> list[str]:
    log = server.store_dir.parent / "nats.log"
    return [line for line in log.read_text(encoding="utf-8").splitlines() if "Violation" in line]


@asynccontextmanager
async def connect(server: NatsServer, user: str) -> AsyncIterator[tuple[NatsClient, list[str]]]:
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    client = await nats.connect(
        server.url,
        user=user,
        password=PASSWORDS[user],
        error_cb=on_error,
        allow_reconnect=False,
    )
    try:
        yield client, errors
    finally:
        await client.close()


async def create_streams(client: NatsClient) -> None:
    js = client.jetstream()
    for spec in ALL_STREAMS:
        await js.add_stream(spec.config())


def msg_id() -> dict[str, str]:
    return {"Nats-Msg-Id": str(uuid.uuid4())}


async def test_a_wrong_password_or_no_user_is_refused(secured_nats: NatsServer) -> None:
    for options in ({}, {"user": "booking", "password": "wrong"}):
        with pytest.raises(Exception, match=r"[Aa]uthorization"):
            await nats.connect(
                secured_nats.url, allow_reconnect=False, max_reconnect_attempts=0, **options
            )


async def test_booking_publishes_its_own_events_but_not_matchings_and_cannot_read_notify(
    secured_nats: NatsServer,
) -> None:
    async with connect(secured_nats, "booking") as (booking, errors):
        # Booking may declare the streams (every service runs ensure_streams at start-up).
        await create_streams(booking)
        js = booking.jetstream()

        ack = await js.publish("booking.meeting.confirmed", b"{}", headers=msg_id())
        assert ack.stream == "BOOKING"

        # A JetStream publish on matching's subject is dropped: no ack ever comes.
        with pytest.raises((NatsTimeoutError, asyncio.TimeoutError)):
            await js.publish("matching.match.accepted", b"{}", headers=msg_id(), timeout=1)
        # A plain publish is refused too; the server says so asynchronously.
        await booking.publish("matching.match.accepted", b"{}")
        # And booking may not listen to notify's subjects.
        await booking.subscribe("notify.>")
        await booking.flush()

        async def both_refused() -> bool:
            return sum('publish to "matching.match.accepted"' in e for e in errors) >= 2 and any(
                'subscription to "notify.>"' in e for e in errors
            )

        await eventually(both_refused, timeout=5)
        assert all("permissions violation" in error.lower() for error in errors), errors
        assert booking.is_connected  # a permissions violation does not cost the connection

    async with connect(secured_nats, OPS_USER) as (ops, _):
        info = await ops.jetstream().stream_info("MATCHING")
        assert info.state.messages == 0  # nothing reached matching's stream
        assert (await ops.jetstream().stream_info("BOOKING")).state.messages == 1
    assert any('"$G/user:booking"' in line for line in violations(secured_nats))


async def test_booking_consumes_matchings_events_with_its_durable_only(
    secured_nats: NatsServer,
) -> None:
    async with (
        connect(secured_nats, "matching") as (matching, _),
        connect(secured_nats, "booking") as (booking, errors),
    ):
        await create_streams(matching)
        await matching.jetstream().publish("matching.match.accepted", b"{}", headers=msg_id())

        spec = CONSUMERS["booking"][0]
        sub = await booking.jetstream().pull_subscribe(
            spec.subject, durable=spec.durable, stream=spec.stream.name
        )
        [msg] = await sub.fetch(1, timeout=5)
        assert msg.subject == "matching.match.accepted"
        await msg.ack()

        # Another durable on the same stream is not booking's to create.
        with pytest.raises((NatsTimeoutError, asyncio.TimeoutError)):
            await booking.jetstream().pull_subscribe(
                "matching.>", durable="someone-else", stream="MATCHING"
            )
        assert any("permissions violation" in e.lower() for e in errors)


@pytest.mark.parametrize("service", SERVICES)
async def test_each_service_runs_consumes_and_dead_letters_under_its_own_user(
    stack: StackInfo, secured_nats: NatsServer, service: str
) -> None:
    app = importlib.import_module(f"services.{service}.app")
    settings_class = getattr(
        importlib.import_module(f"services.{service}.settings"), SETTINGS[service]
    )
    settings = settings_class(
        nats_url=secured_nats.url,
        nats_user=service,
        nats_password=PASSWORDS[service],
        database_url=stack.database_url,
        db_schema=f"perm_{service}_{uuid.uuid4().hex[:6]}",
        staff_token="perm-token",
        static_token_enabled=True,
        **REQUIRED.get(service, {}),
    )
    async with in_process(app.build(settings)), connect(secured_nats, OPS_USER) as (ops, _):
        for spec in CONSUMERS[service]:
            source = (spec.filter_subjects or (spec.subject.replace(">", "confirmed"),))[0]
            poison = msg_id()
            await ops.jetstream().publish(source, b"{this is not json", headers=poison)

            async def dead_lettered(
                spec: ConsumerSpec = spec, poison: str = poison["Nats-Msg-Id"]
            ) -> bool:
                messages = await read_all(ops, "DEADLETTER", spec.dead_letter_subject, idle=0.2)
                letters = [
                    Envelope[EventDeadLettered].model_validate_json(m.data) for m in messages
                ]
                return any(letter.data.original_msg_id == poison for letter in letters)

            await eventually(dead_lettered)

            async def settled(spec: ConsumerSpec = spec) -> bool:
                info = await ops.jetstream().consumer_info(spec.stream.name, spec.durable)
                return bool(info.num_pending == 0 and info.num_ack_pending == 0)

            await eventually(settled)
    assert violations(secured_nats) == []

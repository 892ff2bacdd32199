"""A tiny service used to prove the shared plumbing against the real servers.

Its handler writes one row per event into ``effects`` (in the same transaction as the inbox
claim), and can be told by the event to fail, fail for good, or take its time.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import asyncpg
from faststream.nats import NatsRouter
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.events.base import Envelope, Event
from shared.events.streams import MATCHING_STREAM, ConsumerSpec
from shared.messaging import PermanentError, handle_once, reliable_router, reliable_subscriber
from shared.service import ServiceBlueprint, ServiceRuntime, command_line
from shared.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "probe_migrations"


class ProbeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROBE_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "probe"
    run: str = "default"
    http_port: int = 0
    outbox_poll_seconds: float = 0.2


class ProbeHappened(Event):
    # Each test run has a subject of its own, and an event's type is its subject.
    type: str = Field(
        default="matching.probe.happened", pattern=r"^matching\.probe\.([\w-]+\.)?happened$"
    )
    action: Literal["ok", "fail", "permanent", "slow"] = "ok"
    seconds: float = 0.0


def probe_subject(run: str) -> str:
    return f"matching.probe.{run}.happened"


def probe_happened(run: str, **fields: Any) -> ProbeHappened:
    """A probe event of the run ``run`` (on its subject)."""
    return ProbeHappened(type=probe_subject(run), **fields)


def probe_spec(run: str) -> ConsumerSpec:
    return ConsumerSpec(
        service="probe",
        durable=f"probe-{run}",
        stream=MATCHING_STREAM,
        # Any subject of the run reaches the probe: the hostile-event tests publish junk on them.
        subject=f"matching.probe.{run}.>",
        max_deliver=3,
        ack_wait=timedelta(seconds=2),
        backoff=(0.3, 0.6, 1.2),
        batch_size=8,
    )


_RECORD_ATTEMPT = "INSERT INTO attempts (event_id, at) VALUES ($1, clock_timestamp())"
_RECORD_EFFECT = "INSERT INTO effects (event_id, run) VALUES ($1, $2)"


def consumers_for(run: str) -> object:
    spec = probe_spec(run)

    def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
        router = reliable_router(spec)

        @reliable_subscriber(router, spec)
        async def on_probe(envelope: Envelope[ProbeHappened]) -> None:
            await runtime.pool.execute(_RECORD_ATTEMPT, envelope.id)
            probe = envelope.data
            if probe.action == "permanent":
                raise PermanentError("this probe can never succeed")
            if probe.action == "fail":
                raise RuntimeError("this probe always fails")

            async def effect(conn: asyncpg.Connection) -> None:
                await conn.execute(_RECORD_EFFECT, envelope.id, run)
                if probe.action == "slow":
                    await asyncio.sleep(probe.seconds)

            await handle_once(runtime.pool, spec.durable, envelope, effect)

        return [router]

    return consumers


def build(settings: ProbeSettings | None = None) -> ServiceBlueprint:
    settings = settings or ProbeSettings()
    return ServiceBlueprint(
        settings=settings,
        migrations=MIGRATIONS,
        consumers=consumers_for(settings.run),  # type: ignore[arg-type]
        title="probe",
    )


if __name__ == "__main__":
    os.environ.setdefault("PROBE_LOG_JSON", "true")
    command_line(build, sys.argv[1:])

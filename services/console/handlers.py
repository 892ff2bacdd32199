"""The read model's consumers: every context's events, each applied once (inbox)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from faststream.nats import NatsRouter
from prometheus_client import Gauge

from services.console import repository
from services.console.domain.freshness import Freshness
from services.console.settings import ConsoleSettings
from shared.db import transaction
from shared.events import EVENT_MODELS
from shared.events.base import Envelope
from shared.events.streams import CONSOLE_CONSUMERS, ConsumerSpec
from shared.messaging import reliable_router, reliable_subscriber
from shared.messaging.inbox import claim
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)

LAG = Gauge(
    "werkbank_console_read_model_lag_seconds",
    "Seconds between an event's time and its arrival in the read model (last event)",
    ["consumer"],
)
PENDING = Gauge(
    "werkbank_console_read_model_pending_events",
    "Events of a stream not yet applied to the read model (last seen)",
    ["consumer"],
)


def decode(body: dict[str, Any]) -> Envelope[Any] | None:
    """The typed envelope, or None for an event type the read model does not know (yet)."""
    model = EVENT_MODELS.get(str(body.get("type", "")))
    if model is None:
        return None
    return Envelope[model].model_validate(body)  # type: ignore[valid-type]


async def project(runtime: ServiceRuntime, spec: ConsumerSpec, body: dict[str, Any]) -> None:
    envelope = decode(body)
    if envelope is None:
        return
    async with transaction(runtime.pool) as conn:
        if not await claim(conn, spec.durable, envelope.id, envelope.type):
            return
        await repository.apply(conn, envelope)
        await repository.record_progress(conn, spec.durable, envelope.time)
    LAG.labels(spec.durable).set(max(0.0, (datetime.now(UTC) - envelope.time).total_seconds()))
    freshness: Freshness = runtime.state["freshness"]
    freshness.applied(spec.durable, envelope.time)


def _router_for(runtime: ServiceRuntime, spec: ConsumerSpec) -> NatsRouter:
    router = reliable_router(spec)

    @reliable_subscriber(router, spec)
    async def on_event(body: dict[str, Any]) -> None:
        await project(runtime, spec, body)

    return router


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    runtime.state.setdefault("freshness", Freshness())
    return [_router_for(runtime, spec) for spec in CONSOLE_CONSUMERS]


async def watch_pending(runtime: ServiceRuntime) -> None:
    """Reads each consumer's backlog from JetStream, for the lag banner and the metric."""
    settings = runtime.settings
    assert isinstance(settings, ConsoleSettings)
    freshness: Freshness = runtime.state["freshness"]
    js = runtime.broker.connection.jetstream()
    while True:
        for spec in CONSOLE_CONSUMERS:
            try:
                info = await js.consumer_info(spec.stream.name, spec.durable)
            except Exception:
                log.warning("consumer info unavailable", extra={"consumer": spec.durable})
                continue
            pending = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
            PENDING.labels(spec.durable).set(pending)
            freshness.backlog(spec.durable, pending, time.monotonic())
        await asyncio.sleep(1.0)

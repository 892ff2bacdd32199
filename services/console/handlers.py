"""The read model's consumers: every context's events, each applied once (inbox).

Each consumer's workers hand their events to a group commit: the events that arrive while one
group is being applied form the next, applied in stream order in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from faststream.nats import NatsRouter
from prometheus_client import Gauge

from services.console import repository
from services.console.domain.freshness import Freshness
from services.console.settings import ConsoleSettings
from shared.db import Pool, transaction
from shared.events import EVENT_MODELS
from shared.events.base import Envelope
from shared.events.streams import CONSOLE_CONSUMERS, ConsumerSpec
from shared.messaging import reliable_router, reliable_subscriber
from shared.messaging.grouping import GroupCommit
from shared.messaging.inbox import claim_new
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


@dataclass(frozen=True)
class Arrival:
    """A decoded event and its place in its stream: a group is applied in stream order."""

    sequence: int
    envelope: Envelope[Any]


def stream_sequence(message: Any) -> int:
    try:
        return int(message.raw_message.metadata.sequence.stream)
    except Exception:  # no JetStream metadata (a test broker): the order of arrival counts
        return 0


def in_stream_order(arrivals: Sequence[Arrival]) -> list[Envelope[Any]]:
    """Each event once, in stream order (a stable sort keeps the order of arrival on ties)."""
    seen: set[Any] = set()
    ordered: list[Envelope[Any]] = []
    for arrival in sorted(arrivals, key=lambda a: a.sequence):
        if arrival.envelope.id not in seen:
            seen.add(arrival.envelope.id)
            ordered.append(arrival.envelope)
    return ordered


async def project_group(
    pool: Pool, freshness: Freshness, spec: ConsumerSpec, arrivals: Sequence[Arrival]
) -> list[None]:
    """The events delivered meanwhile, applied in one transaction with their inbox claims.

    Every projection of ``repository.apply`` runs inside it, so a new read-model table hooks in
    there. If one event fails, the group rolls back and ``GroupCommit`` applies each event on
    its own, so retries and dead letters stay per event."""
    envelopes = in_stream_order(arrivals)
    async with transaction(pool) as conn:
        claimed = await claim_new(conn, spec.durable, envelopes)
        applied = [e for e in envelopes if e.id in claimed]
        for envelope in applied:
            await repository.apply(conn, envelope)
        if applied:
            await repository.record_progress(conn, spec.durable, max(e.time for e in applied))
    if applied:
        _report_applied(freshness, spec, applied)
    return [None] * len(arrivals)


def _report_applied(
    freshness: Freshness, spec: ConsumerSpec, applied: Sequence[Envelope[Any]]
) -> None:
    """After the commit: the lag of the group's last event, and the newest event's time."""
    LAG.labels(spec.durable).set(max(0.0, (datetime.now(UTC) - applied[-1].time).total_seconds()))
    freshness.applied(spec.durable, max(e.time for e in applied))


def _router_for(runtime: ServiceRuntime, spec: ConsumerSpec) -> NatsRouter:
    router = reliable_router(spec)
    freshness: Freshness = runtime.state["freshness"]
    groups: GroupCommit[Arrival, None] = GroupCommit(
        lambda arrivals: project_group(runtime.pool, freshness, spec, arrivals),
        max_size=spec.workers,
    )

    @reliable_subscriber(router, spec)
    async def on_event(body: dict[str, Any]) -> None:
        envelope = decode(body)  # an invalid event raises here: dead-lettered on its own
        if envelope is not None:
            # From the context by hand: as a handler argument it is resolved in a worker thread.
            message = runtime.broker.context.get_local("message")
            await groups.submit(Arrival(stream_sequence(message), envelope))

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

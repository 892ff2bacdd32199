"""The AsyncAPI document, generated from the event contracts in ``shared.events``.

``make docs`` writes it to docs/asyncapi.yaml; a test checks the committed file is current.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.specification import AsyncAPI

from shared.events import EVENT_MODELS
from shared.events.base import Envelope
from shared.events.booking import BookingEvent
from shared.events.deadletter import EventDeadLettered
from shared.events.matching import MatchAccepted
from shared.events.streams import (
    ALL_STREAMS,
    BOOKING_ON_MATCHING,
    MATCHING_ON_BOOKING,
    NOTIFY_ON_BOOKING,
    ConsumerSpec,
)

DEFAULT_OUTPUT = Path("docs/asyncapi.yaml")
CONSUMER_PAYLOADS: tuple[tuple[ConsumerSpec, Any], ...] = (
    (BOOKING_ON_MATCHING, Envelope[MatchAccepted]),
    (NOTIFY_ON_BOOKING, Envelope[BookingEvent]),  # type: ignore[valid-type]
    (MATCHING_ON_BOOKING, Envelope[BookingEvent]),  # type: ignore[valid-type]
)


def _stream_for(subject: str) -> str:
    for spec in ALL_STREAMS:
        if any(subject.startswith(pattern.rstrip(">")) for pattern in spec.subjects):
            return spec.name
    msg = f"no stream holds {subject}"
    raise LookupError(msg)


def _document_consumer(broker: NatsBroker, spec: ConsumerSpec, payload: Any) -> None:
    async def handler(envelope: Any) -> None:
        return None

    handler.__annotations__["envelope"] = payload
    broker.subscriber(
        spec.subject,
        stream=JStream(spec.stream.name, declare=False),
        durable=spec.durable,
        pull_sub=PullSub(batch_size=spec.batch_size),
        title=f"{spec.service}: {spec.durable}",
        description=f"Durable pull consumer of the {spec.service} service; dead letters go to "
        f"{spec.dead_letter_subject}.",
    )(handler)


def build_broker() -> NatsBroker:
    broker = NatsBroker(description="Werkbank's events: one JetStream stream per context")
    for event_type, model in sorted(EVENT_MODELS.items()):
        if model is EventDeadLettered:
            continue
        broker.publisher(
            event_type,
            stream=JStream(_stream_for(event_type), declare=False),
            title=event_type,
            description=(model.__doc__ or "").strip() or None,
            schema=Envelope[model],  # type: ignore[valid-type]
        )
    broker.publisher(
        "deadletter.{service}.{consumer}",
        title="deadletter.event.dead_lettered",
        description=(EventDeadLettered.__doc__ or "").strip(),
        schema=Envelope[EventDeadLettered],
    )
    for spec, payload in CONSUMER_PAYLOADS:
        _document_consumer(broker, spec, payload)
    return broker


def render() -> str:
    spec = AsyncAPI(
        build_broker(),
        title="Werkbank events",
        version="1.0.0",
        description="Events between the matching, booking and notify services. Every message "
        "is a CloudEvents-style envelope; its id is also the Nats-Msg-Id header.",
        schema_version="3.0.0",
    )
    return _in_stable_order(spec.to_specification().to_yaml())


def _in_stable_order(document: str) -> str:
    """FastStream emits channels, operations and schemas in a different order on each run;
    sorted, the committed document changes only when the contracts do."""
    tree = yaml.safe_load(document)
    for key in ("channels", "operations"):
        tree[key] = dict(sorted(tree.get(key, {}).items()))
    for key in ("messages", "schemas"):
        tree["components"][key] = dict(sorted(tree["components"].get(key, {}).items()))
    return str(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    output = Path(args[0]) if args else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(), encoding="utf-8")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()

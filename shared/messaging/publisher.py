"""Publishing envelopes: always with ``Nats-Msg-Id``, so JetStream drops duplicates."""

from __future__ import annotations

import logging
from typing import Any

from faststream.nats import NatsBroker
from nats.js.api import PubAck
from nats.js.errors import BadRequestError

from shared.events.base import Envelope
from shared.events.streams import StreamSpec

log = logging.getLogger(__name__)

MSG_ID = "Nats-Msg-Id"
CORRELATION_ID = "Werkbank-Correlation-Id"
EVENT_TYPE = "Werkbank-Event-Type"
CONTENT_TYPE = "content-type"


def headers_for(envelope: Envelope[Any]) -> dict[str, str]:
    return {
        MSG_ID: envelope.msg_id,
        CORRELATION_ID: envelope.correlationid,
        EVENT_TYPE: envelope.type,
        CONTENT_TYPE: "application/json",
    }


async def publish_raw(
    broker: NatsBroker, subject: str, body: bytes, headers: dict[str, str]
) -> PubAck:
    if MSG_ID not in headers:
        msg = f"refusing to publish on {subject} without {MSG_ID}"
        raise ValueError(msg)
    # JetStream publish, so that we hold a PubAck (stored, or recognised as a duplicate).
    return await broker.connection.jetstream().publish(subject, body, headers=headers)


async def publish(
    broker: NatsBroker, envelope: Envelope[Any], subject: str | None = None
) -> PubAck:
    """Publish straight away. Inside a unit of work use the outbox instead."""
    return await publish_raw(
        broker, subject or envelope.subject, envelope.to_bytes(), headers_for(envelope)
    )


async def ensure_streams(
    broker: NatsBroker, specs: tuple[StreamSpec, ...], replicas: int = 1
) -> None:
    """Create or update each stream; safe to run from every replica at start-up."""
    js = broker.connection.jetstream()
    for spec in specs:
        config = spec.config(replicas)
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)
        log.debug("stream ready", extra={"stream": spec.name})

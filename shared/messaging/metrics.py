"""FastStream's Prometheus metrics, labelled by durable consumer instead of by raw subject.

``NatsPrometheusMiddleware`` labels every received message with its subject. A consumer on
``booking.meeting.>`` then grows one time series per subject anybody publishes to, so junk
subjects grow ``/metrics`` without bound. Here the ``handler`` label is the durable consumer
(a fixed set per service), and a publish is labelled by its subject's context only.
"""

from __future__ import annotations

from typing import Any

from faststream.message import StreamMessage
from faststream.nats.response import NatsPublishCommand
from faststream.prometheus import ConsumeAttrs
from faststream.prometheus.middleware import PrometheusMiddleware
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry

CORE = "core"


def consumer_of(raw: object) -> str:
    """The durable consumer a message was delivered to; ``core`` for plain NATS messages."""
    try:
        consumer = raw.metadata.consumer  # type: ignore[attr-defined]
    except Exception:  # a core NATS message has no JetStream metadata
        return CORE
    return str(consumer) if consumer else CORE


class ConsumerLabels:
    """A ``MetricsSettingsProvider`` whose destination names come from a bounded set."""

    messaging_system = "nats"

    def get_consume_attrs_from_message(self, msg: StreamMessage[Msg]) -> ConsumeAttrs:
        return {
            "destination_name": consumer_of(msg.raw_message),
            "message_size": len(msg.body),
            "messages_count": 1,
        }

    def get_publish_destination_name_from_cmd(self, cmd: NatsPublishCommand) -> str:
        context = cmd.destination.split(".", 1)[0]
        return f"{context}.>"


def _labels_for(msg: Any) -> ConsumerLabels | None:
    if msg is None or isinstance(msg, Msg):
        return ConsumerLabels()
    return None  # batches, key-value and object-store watches: not used by the services


class ConsumerPrometheusMiddleware(PrometheusMiddleware[Msg, NatsPublishCommand]):
    def __init__(self, *, registry: CollectorRegistry, app_name: str) -> None:
        super().__init__(
            settings_provider_factory=_labels_for,
            registry=registry,
            app_name=app_name,
        )


__all__ = ["ConsumerPrometheusMiddleware", "consumer_of"]

"""Reliable messaging over NATS JetStream: publishing, outbox, inbox, retries and dead letters."""

from shared.messaging.consumer import DeliveryGuard, reliable_router, reliable_subscriber
from shared.messaging.errors import PermanentError
from shared.messaging.inbox import claim, handle_once
from shared.messaging.outbox import OutboxRelay, enqueue
from shared.messaging.publisher import ensure_streams, headers_for, publish

__all__ = [
    "DeliveryGuard",
    "OutboxRelay",
    "PermanentError",
    "claim",
    "enqueue",
    "ensure_streams",
    "handle_once",
    "headers_for",
    "publish",
    "reliable_router",
    "reliable_subscriber",
]

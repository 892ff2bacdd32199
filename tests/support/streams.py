"""Reading what landed in a JetStream stream, for assertions."""

from __future__ import annotations

import contextlib

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy


async def read_all(
    client: NatsClient, stream: str, subject: str, *, idle: float = 0.5
) -> list[Msg]:
    """Every message on ``subject`` in ``stream`` now, via an ephemeral consumer."""
    js = client.jetstream()
    sub = await js.pull_subscribe(
        subject,
        stream=stream,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
    )
    messages: list[Msg] = []
    try:
        while True:
            try:
                batch = await sub.fetch(500, timeout=idle)
            except TimeoutError:  # nats-py raises both its own and asyncio's
                break
            for msg in batch:
                await msg.ack()
            messages.extend(batch)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    return messages

"""Dead letters for events whose deliveries ran out without the handler having the last word.

The ``DeliveryGuard`` dead-letters an event on its last delivery. But when a consumer dies or
hangs on every delivery (a poison message that crashes the process, say), JetStream gives up
after ``max_deliver`` and only says so in an advisory. This listener turns that advisory into a
dead letter, with the original message fetched from the stream. One replica handles each
advisory (queue group), and the dead letter's id is derived from the original, so a repeat is a
JetStream duplicate.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import RawStreamMsg

from shared.events.streams import ConsumerSpec
from shared.messaging.consumer import DeliveryGuard

log = logging.getLogger(__name__)

ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{durable}"


class DeliveriesExhaustedError(Exception):
    """The server stopped redelivering: no delivery was acknowledged within ``ack_wait``."""


class _RawAsMsg:
    """Just enough of ``nats.aio.msg.Msg`` for ``DeliveryGuard.dead_letter``."""

    def __init__(self, raw: RawStreamMsg) -> None:
        self.subject = raw.subject or ""
        self.data = raw.data or b""
        self.headers = dict(raw.headers or {})


class ExhaustedDeliveriesListener:
    def __init__(self, client: NatsClient, specs: Sequence[ConsumerSpec]) -> None:
        self._client = client
        self._specs = list(specs)
        self._subscriptions: list[Subscription] = []

    async def start(self, broker: object) -> None:
        for spec in self._specs:
            subject = ADVISORY.format(stream=spec.stream.name, durable=spec.durable)
            handler = self._handler_for(spec, broker)
            queue = f"{spec.service}-exhausted"
            self._subscriptions.append(
                await self._client.subscribe(subject, queue=queue, cb=handler)
            )

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        self._subscriptions.clear()

    def _handler_for(self, spec: ConsumerSpec, broker: object) -> Callable[[Msg], Awaitable[None]]:
        guard = DeliveryGuard(spec)

        async def on_advisory(advisory: Msg) -> None:
            try:
                body = json.loads(advisory.data)
                sequence = int(body["stream_seq"])
                deliveries = int(body.get("deliveries", spec.max_deliver + 1))
                raw = await self._client.jetstream().get_msg(spec.stream.name, sequence)
                await guard.dead_letter(
                    broker,  # type: ignore[arg-type]
                    _RawAsMsg(raw),  # type: ignore[arg-type]
                    DeliveriesExhaustedError(
                        f"no acknowledgement after {deliveries} deliveries (ack_wait "
                        f"{spec.ack_wait.total_seconds():g} s each)"
                    ),
                    deliveries,
                )
            except Exception:
                log.exception(
                    "could not dead-letter an exhausted event", extra={"consumer": spec.durable}
                )

        return on_advisory

"""Durable consumers that never lose an event.

``DeliveryGuard`` wraps every handler call:
- success: ack;
- a payload that fails validation, or a ``PermanentError``: dead-letter at once, then ack;
- any other error: nak with a delay from the backoff table, until ``max_deliver``;
  the last delivery is dead-lettered, then acked;
- a handler cancelled (a graceful shutdown that ran out of time): nak at once, so another
  replica takes the event without waiting for ``ack_wait``.
While the handler runs, the guard reports progress every third of ``ack_wait``: a short ack
wait then bounds the redelivery of the events a dead consumer held, without cutting long work.
If the dead letter itself cannot be published, the event is nak'ed: nothing is lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from contextvars import Token
from types import TracebackType
from typing import Any

from faststream import AckPolicy
from faststream._internal.middlewares import BaseMiddleware
from faststream.exceptions import HandlerException, NackMessage
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsRouter, PullSub
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from shared.events.base import utc_now, wrap
from shared.events.deadletter import EventDeadLettered
from shared.events.streams import ConsumerSpec
from shared.logging import correlation_id
from shared.messaging.decoding import EventRefusedError, event_decoder
from shared.messaging.errors import PermanentError
from shared.messaging.publisher import CORRELATION_ID, MSG_ID, publish

log = logging.getLogger(__name__)

EVENTS_HANDLED = Counter(
    "werkbank_events_handled_total",
    "Events handled by a durable consumer, by outcome",
    ["service", "consumer", "outcome"],
)
DEAD_LETTERS = Counter(
    "werkbank_dead_letters_total", "Events sent to the dead-letter stream", ["service", "consumer"]
)
HANDLER_SECONDS = Histogram(
    "werkbank_handler_seconds",
    "Time spent in a handler",
    ["service", "consumer"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


# A dead letter must fit into one NATS message (1 MiB by default) with room to spare.
DEAD_LETTER_BODY_LIMIT = 64 * 1024
_HEADER_LIMIT = 512
_REASON_LIMIT = 2000


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        problems = [
            f"{'.'.join(str(part)[:100] for part in err['loc']) or '<body>'}: {err['msg']}"
            for err in exc.errors()[:10]
        ]
        return ("invalid payload: " + "; ".join(problems))[:_REASON_LIMIT]
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} at position {exc.pos}"
    if isinstance(exc, EventRefusedError):
        return str(exc)[:_REASON_LIMIT]
    return f"{type(exc).__name__}: {exc}"[:_REASON_LIMIT]


def original_fields(raw: Msg) -> dict[str, Any]:
    """The original message's fields of a dead letter: a large body only by its beginning."""
    body = raw.data or b""
    headers = {
        str(k)[:_HEADER_LIMIT]: str(v)[:_HEADER_LIMIT] for k, v in (raw.headers or {}).items()
    }
    fields: dict[str, Any] = {
        "original_subject": raw.subject[:_HEADER_LIMIT],
        "original_headers": dict(list(headers.items())[:32]),
        "original_size": len(body),
        "original_sha256": hashlib.sha256(body).hexdigest(),
    }
    if len(body) > DEAD_LETTER_BODY_LIMIT:
        body = body[:DEAD_LETTER_BODY_LIMIT]
        fields["original_truncated"] = True
    fields["original_body"] = body.decode("utf-8", errors="replace")
    return fields


class DeliveryGuard:
    """The middleware factory for one consumer (applied through its router)."""

    def __init__(self, spec: ConsumerSpec) -> None:
        self.spec = spec
        # The series exists at 0 from the start, so increase() sees a pod's first dead letter.
        DEAD_LETTERS.labels(spec.service, spec.durable)

    def __call__(self, msg: Any, /, **kwargs: Any) -> _GuardScope:
        return _GuardScope(msg, guard=self, **kwargs)

    def backoff_for(self, delivered: int) -> float:
        table = self.spec.backoff
        return table[min(max(delivered, 1), len(table)) - 1]

    async def dead_letter(
        self, broker: NatsBroker, raw: Msg, exc: BaseException, delivered: int
    ) -> None:
        original = original_fields(raw)
        headers: dict[str, str] = original["original_headers"]
        event = EventDeadLettered(
            service=self.spec.service,
            consumer=self.spec.durable,
            **original,
            original_msg_id=headers.get(MSG_ID),
            reason=_reason(exc),
            error_type=type(exc).__name__,
            deliveries=delivered,
            dead_lettered_at=utc_now(),
        )
        original_id = headers.get(MSG_ID) or str(uuid.uuid4())
        envelope = wrap(
            event,
            source=self.spec.service,
            correlation_id=headers.get(CORRELATION_ID),
            event_id=dead_letter_id(self.spec.durable, original_id),
        )
        await publish(broker, envelope, subject=self.spec.dead_letter_subject)
        DEAD_LETTERS.labels(self.spec.service, self.spec.durable).inc()
        log.error(
            "event dead-lettered",
            extra={
                "consumer": self.spec.durable,
                "event_id": original_id,
                "reason": event.reason,
                "deliveries": delivered,
            },
        )


def dead_letter_id(consumer: str, original_id: str) -> uuid.UUID:
    """Derived from the original, so that dead-lettering twice is a JetStream duplicate."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"werkbank:deadletter:{consumer}:{original_id}")


class _GuardScope(BaseMiddleware):
    """Decides ack, delayed nak or dead letter once the handler (or the parser) is done.

    It works in ``after_processed`` rather than ``consume_scope`` because FastStream decodes
    the body before the consume scope: a body that is not JSON only shows up here.
    """

    def __init__(self, msg: Any, /, *, guard: DeliveryGuard, **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self.guard = guard
        self.started = time.perf_counter()
        self._correlation: Token[str | None] | None = None
        self._progress: asyncio.Task[None] | None = None

    @property
    def raw(self) -> Msg:
        raw: Msg = self.msg  # type: ignore[assignment]
        return raw

    @property
    def delivered(self) -> int:
        try:
            return int(self.raw.metadata.num_delivered or 1)
        except (AttributeError, TypeError, ValueError):
            return 1

    async def on_receive(self) -> None:
        self.started = time.perf_counter()
        self._correlation = correlation_id.set((self.raw.headers or {}).get(CORRELATION_ID))
        self._progress = asyncio.create_task(self._report_progress())

    async def _report_progress(self) -> None:
        """Tell the server the event is still being worked on, so it is not redelivered."""
        interval = self.guard.spec.ack_wait.total_seconds() / 3
        while not getattr(self.raw, "_ackd", False):
            await asyncio.sleep(interval)
            try:
                await self.raw.in_progress()
            except Exception:  # the connection is gone: the ack wait decides, as without this
                log.debug("could not report progress", exc_info=True)

    def _stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.cancel()
            self._progress = None

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        spec = self.guard.spec
        self._stop_progress()
        try:
            HANDLER_SECONDS.labels(spec.service, spec.durable).observe(
                time.perf_counter() - self.started
            )
            if exc_val is None:
                EVENTS_HANDLED.labels(spec.service, spec.durable, "ok").inc()
                return False
            if isinstance(exc_val, asyncio.CancelledError):
                await self._hand_back()
                return False
            if isinstance(exc_val, HandlerException):
                return False
            if not isinstance(exc_val, Exception):
                return False
            if _is_permanent(exc_val) or self.delivered >= spec.max_deliver:
                await self._dead_letter(exc_val)
                return True  # suppressed: the acknowledgement middleware acks
            self._retry_later(exc_val)
        finally:
            if self._correlation is not None:
                correlation_id.reset(self._correlation)
                self._correlation = None
        return False  # pragma: no cover - _retry_later always raises

    async def _hand_back(self) -> None:
        """A handler cancelled mid-way: redeliver at once rather than after the ack wait."""
        try:
            await self.raw.nak()
        except Exception:
            log.debug("could not hand the event back", exc_info=True)

    def _retry_later(self, exc: Exception) -> None:
        spec = self.guard.spec
        delay = self.guard.backoff_for(self.delivered)
        EVENTS_HANDLED.labels(spec.service, spec.durable, "retried").inc()
        log.warning(
            "handler failed; retrying later",
            extra={
                "consumer": spec.durable,
                "delivered": self.delivered,
                "delay_s": delay,
                "error": type(exc).__name__,
            },
            exc_info=exc,
        )
        raise NackMessage(delay=delay) from exc

    async def _dead_letter(self, exc: Exception) -> None:
        spec = self.guard.spec
        broker: NatsBroker = self.context.get_local("broker") or self.context.get("broker")
        try:
            await self.guard.dead_letter(broker, self.raw, exc, self.delivered)
        except Exception as publish_error:
            log.exception("could not dead-letter; the event stays pending")
            raise NackMessage(delay=self.guard.backoff_for(self.delivered)) from publish_error
        EVENTS_HANDLED.labels(spec.service, spec.durable, "dead_lettered").inc()


def _is_permanent(exc: Exception) -> bool:
    return isinstance(
        exc,
        ValidationError | json.JSONDecodeError | UnicodeError | RecursionError | PermanentError,
    )


def consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    # One more delivery than the guard allows, so the guard (not the server) has the last word.
    return ConsumerConfig(
        durable_name=spec.durable,
        ack_policy=JsAckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        max_deliver=spec.max_deliver + 1,
        ack_wait=spec.ack_wait.total_seconds(),
        max_ack_pending=spec.batch_size * 32,
        filter_subjects=list(spec.filter_subjects) or None,
    )


class GuardedRouter(NatsRouter):
    """A router whose subscribers are guarded by ``DeliveryGuard`` for one consumer spec."""

    def __init__(self, spec: ConsumerSpec) -> None:
        super().__init__(middlewares=[DeliveryGuard(spec)])
        self.spec = spec


def reliable_router(spec: ConsumerSpec) -> GuardedRouter:
    """A router whose subscribers are guarded by ``DeliveryGuard`` for ``spec``."""
    return GuardedRouter(spec)


def reliable_subscriber(router: NatsRouter, spec: ConsumerSpec) -> Callable[[Any], Any]:
    """Declare the durable pull consumer for ``spec`` on a router from ``reliable_router``."""
    subscriber: Callable[[Any], Any] = router.subscriber(
        spec.subject,
        stream=JStream(spec.stream.name, declare=False),
        durable=spec.durable,
        config=consumer_config(spec),
        pull_sub=PullSub(batch_size=spec.batch_size, timeout=spec.pull_timeout),
        ack_policy=AckPolicy.ACK,
        max_workers=spec.workers,
        title=spec.durable,
        decoder=event_decoder(spec),
    )
    return subscriber

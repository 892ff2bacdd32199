"""Decoding a received event, refusing what can never be handled before it reaches pydantic.

Each refusal is a ``PermanentError`` (so the ``DeliveryGuard`` dead-letters it at once, with the
reason): a body over the consumer's size limit, a body that is not UTF-8 JSON, JSON nested
deeper than the limit, a string that PostgreSQL cannot store (NUL, lone surrogates), and an
event whose ``type`` is not the subject it travelled on.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.message import StreamMessage

from shared.events.deadletter import EventDeadLettered
from shared.events.streams import ConsumerSpec
from shared.messaging.errors import PermanentError

DEAD_LETTER_TYPE = EventDeadLettered.event_type()
Decoder = Callable[[StreamMessage[Any], Callable[..., Any]], Awaitable[Any]]


class EventRefusedError(PermanentError):
    """A received event that no handler may see."""


def refusal(body: bytes, subject: str, spec: ConsumerSpec) -> tuple[Any, str | None]:
    """The decoded body, and why it is refused (``None`` if it is not)."""
    if len(body) > spec.max_event_bytes:
        return None, f"event too large: {len(body)} bytes (limit {spec.max_event_bytes})"
    try:
        decoded = json.loads(body.decode("utf-8"))
    except RecursionError:
        return None, f"invalid JSON: nested deeper than {spec.max_event_depth} levels"
    except UnicodeDecodeError as exc:
        return None, f"invalid JSON: not UTF-8 at byte {exc.start}"
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at position {exc.pos}"
    problem = _structure_problem(decoded, spec.max_event_depth, escapes=b"\\u" in body)
    if problem is None:
        problem = _subject_problem(decoded, subject)
    return decoded, problem


def _structure_problem(decoded: Any, max_depth: int, *, escapes: bool) -> str | None:
    """Too deep, or a string PostgreSQL cannot store. Such a string can only come from a
    ``\\u`` escape (JSON refuses a raw NUL, UTF-8 a raw surrogate), so without ``escapes``
    only the depth is checked: the walk over every string is most of the cost."""
    containers: list[tuple[Any, int]] = [(decoded, 1)] if isinstance(decoded, dict | list) else []
    while containers:
        value, depth = containers.pop()
        if depth > max_depth:
            return f"invalid JSON: nested deeper than {max_depth} levels"
        items = value.values() if isinstance(value, dict) else value
        containers.extend((item, depth + 1) for item in items if isinstance(item, dict | list))
    return _texts_problem(decoded) if escapes else None


def _texts_problem(decoded: Any) -> str | None:
    stack: list[Any] = [decoded]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and (problem := _text_problem(value)):
            return problem
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "invalid text: a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "invalid text: a lone surrogate"
    return None


def _subject_problem(decoded: Any, subject: str) -> str | None:
    event_type = decoded.get("type") if isinstance(decoded, dict) else None
    if not isinstance(event_type, str):
        return "invalid envelope: no event type"
    if event_type != subject and not _is_dead_letter(event_type, subject):
        return f"event type {event_type[:200]!r} does not match its subject {subject[:200]!r}"
    return None


def _is_dead_letter(event_type: str, subject: str) -> bool:
    """Dead letters travel on ``deadletter.<service>.<consumer>``, not on their type."""
    return event_type == DEAD_LETTER_TYPE and subject.startswith("deadletter.")


def event_decoder(spec: ConsumerSpec) -> Decoder:
    """A FastStream decoder for ``spec``'s subscriber."""

    async def decode(msg: StreamMessage[Any], original: Callable[..., Any]) -> Any:
        decoded, problem = refusal(msg.body, msg.raw_message.subject, spec)
        if problem is not None:
            raise EventRefusedError(problem)
        return decoded

    return decode


__all__ = ["EventRefusedError", "event_decoder", "refusal"]

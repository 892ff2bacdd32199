"""Structured JSON logs that carry the correlation id of the flow being handled."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


@contextmanager
def correlated(value: str | None) -> Iterator[None]:
    token = correlation_id.set(value)
    try:
        yield
    finally:
        correlation_id.reset(token)


# Personal data that can reach a log line inside an exception text: an SMTP server's answer
# quoting the address, a validation error quoting the input (a name), a gateway's answer
# quoting the number. Ids are what logs may carry; these never.
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_PHONE = re.compile(r"(?<![\w+])\+\d[\d \-/().]{5,20}\d")
_INPUT = re.compile(r"input_value=.*?(?=, input_type=|$)", re.MULTILINE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` without email addresses, international phone numbers and quoted inputs."""
    text = _INPUT.sub(f"input_value={REDACTED}", text)
    text = _EMAIL.sub(REDACTED, text)
    return _PHONE.sub(REDACTED, text)


class _RedactingJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _RedactingWrapper(logging.Formatter):
    """Another library's formatter, its output redacted."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


_REDACTING = (_RedactingJsonFormatter, _RedactingFormatter, _RedactingWrapper)


def redact_every_handler() -> None:
    """Redact what handlers of other libraries write too (FastStream adds its own to stdout)."""
    loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            formatter = handler.formatter or logging.Formatter()
            if not isinstance(formatter, _REDACTING):
                handler.setFormatter(_RedactingWrapper(formatter))


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlation_id = correlation_id.get()
        return True


def configure_logging(service: str, level: str = "INFO", *, json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter(service))
    if json:
        handler.setFormatter(
            _RedactingJsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(service)s %(correlation_id)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            _RedactingFormatter("%(asctime)s %(levelname)s [%(service)s] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)

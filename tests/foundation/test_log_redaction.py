"""No email address, phone number or quoted input (a name) in a log line, at any level."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, ValidationError

from shared.logging import configure_logging, redact, redact_every_handler

pytestmark = pytest.mark.unit


class Person(BaseModel):
    name: str
    age: int


# Not literals in the raising lines: a traceback quotes its source lines.
SUBMITTED = {"name": "Petra Müller", "age": "alt"}
SMTP_ANSWER = "SMTP 550 <petra.mueller@example.org>: mailbox unavailable"


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("probe", "DEBUG", json=True)
    yield stream
    root.handlers[:], root.level = handlers, level


def test_exception_texts_in_logs_lose_addresses_numbers_and_quoted_inputs(
    captured: io.StringIO,
) -> None:
    log = logging.getLogger("tests.redaction")
    try:
        raise RuntimeError(SMTP_ANSWER)
    except RuntimeError:
        log.exception("send failed")
    try:
        Person.model_validate(SUBMITTED)
    except ValidationError as exc:
        log.warning("invalid: %s", exc, exc_info=exc)
    log.debug("gateway said %s", "number +49 231 9876543 unknown")
    out = captured.getvalue()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 3
    assert "petra.mueller@example.org" not in out
    assert "Petra Müller" not in out
    assert "Petra M\\u00fcller" not in out
    assert "9876543" not in out
    assert "mailbox unavailable" in out, "the rest of the reason stays"
    assert lines[0]["level"] == "ERROR"


def test_handlers_other_libraries_added_are_redacted_too() -> None:
    stream = io.StringIO()
    foreign = logging.getLogger("faststream.access.redaction-test")
    handler = logging.StreamHandler(stream)
    foreign.addHandler(handler)
    foreign.propagate = False
    try:
        redact_every_handler()
        foreign.error("refused ana@example.com")
    finally:
        foreign.removeHandler(handler)
    assert stream.getvalue().strip() == "refused [redacted]"


def test_redaction_keeps_ids_times_and_durations() -> None:
    text = "2026-12-02 10:40:35,704 event 3f0c1e9a-0123-4567-89ab-0123456789ab took 0.0123 s"
    assert redact(text) == text

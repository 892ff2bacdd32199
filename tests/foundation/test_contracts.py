"""The event contracts: naming, immutability, the envelope, and the generated AsyncAPI document."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.events import EVENT_MODELS
from shared.events.base import Envelope, Event, wrap
from shared.events.matching import MatchRequested
from shared.events.streams import ALL_STREAMS
from werkbank.asyncapi import render

SUBJECT = re.compile(r"^(matching|booking|notify|audit|deadletter|privacy)\.[a-z_]+\.[a-z_]+$")
PAST_TENSE = re.compile(r"(ed|Due|Given|Held)$")


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_every_event_type_is_named_context_noun_past_verb(event_type: str) -> None:
    assert SUBJECT.match(event_type)
    assert event_type.rsplit(".", 1)[1].endswith(("ed", "due", "given"))


@pytest.mark.parametrize("model", [EVENT_MODELS[name] for name in sorted(EVENT_MODELS)])
def test_every_event_class_is_named_in_the_past_tense_and_frozen(model: type[Event]) -> None:
    assert PAST_TENSE.search(model.__name__), model.__name__
    assert model.model_config.get("frozen") is True


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_every_event_type_travels_on_a_stream(event_type: str) -> None:
    prefixes = [pattern.rstrip(">") for spec in ALL_STREAMS for pattern in spec.subjects]
    assert any(event_type.startswith(prefix) for prefix in prefixes)


def request() -> MatchRequested:
    return MatchRequested(run_id="r1", need_ids=("n1",), requested_by="staff-1")


def test_an_envelope_carries_id_type_version_source_utc_time_and_correlation() -> None:
    envelope = wrap(request(), source="matching", correlation_id="flow-1")
    assert isinstance(envelope.id, uuid.UUID)
    assert envelope.type == "matching.match.requested"
    assert envelope.schemaversion == 1
    assert envelope.source == "matching"
    assert envelope.time.utcoffset() == timedelta(0)
    assert envelope.correlationid == "flow-1"


def test_a_caused_event_inherits_the_correlation_id_and_names_its_cause() -> None:
    first = wrap(request(), source="matching")
    second = wrap(request(), source="matching", causation=first)
    assert second.correlationid == first.correlationid
    assert second.causationid == str(first.id)


def test_an_envelope_round_trips_through_json() -> None:
    envelope = wrap(request(), source="matching")
    again = Envelope[MatchRequested].model_validate_json(envelope.to_bytes())
    assert again == envelope


def test_an_envelope_converts_local_times_to_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    envelope = Envelope[MatchRequested](
        id=uuid.uuid4(),
        type="matching.match.requested",
        source="matching",
        correlationid="c",
        time=datetime(2026, 3, 29, 3, 0, tzinfo=berlin),
        data=request(),
    )
    assert envelope.time == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)


def test_an_envelope_refuses_naive_times_and_a_type_that_differs_from_its_payload() -> None:
    with pytest.raises(ValidationError, match="time"):
        Envelope[MatchRequested](
            id=uuid.uuid4(),
            type="matching.match.requested",
            source="matching",
            correlationid="c",
            time=datetime(2026, 1, 1, 12, 0),
            data=request(),
        )
    with pytest.raises(ValidationError, match="does not match"):
        Envelope[MatchRequested](
            id=uuid.uuid4(),
            time=datetime.now(UTC),
            type="matching.match.accepted",
            source="matching",
            correlationid="c",
            data=request(),
        )


@pytest.mark.parametrize("field", ["id", "time"])
def test_a_received_envelope_without_id_or_time_is_refused(field: str) -> None:
    # With a default, an id-less event would get a new id on every delivery: the inbox could
    # never recognise it as a repeat.
    wire = wrap(request(), source="matching").model_dump(mode="json")
    del wire[field]
    with pytest.raises(ValidationError, match=field):
        Envelope[MatchRequested].model_validate(wire)


def test_an_envelope_of_an_unknown_schema_version_is_refused() -> None:
    wire = wrap(request(), source="matching").model_dump(mode="json")
    wire["schemaversion"] = 99
    with pytest.raises(ValidationError, match="unknown schema version 99"):
        Envelope[MatchRequested].model_validate(wire)
    wire["schemaversion"] = 1
    assert Envelope[MatchRequested].model_validate(wire).schemaversion == 1


def test_events_are_immutable() -> None:
    event = request()
    with pytest.raises(ValidationError):
        event.run_id = "other"  # type: ignore[misc]


def test_the_asyncapi_document_names_every_event_type() -> None:
    document = render()
    for event_type in EVENT_MODELS:
        assert f"{event_type}:Message" in document
    assert "booking-on-matching" in document


def test_the_committed_asyncapi_document_is_current() -> None:
    committed = (Path(__file__).parents[2] / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
    assert committed == render(), "run `make docs` and commit docs/asyncapi.yaml"

"""What a consumer refuses before any handler sees it, and how it dead-letters that."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import timedelta

import pytest
from nats.aio.msg import Msg

from shared.events.streams import MATCHING_STREAM, ConsumerSpec
from shared.messaging.decoding import refusal

pytestmark = pytest.mark.unit

SPEC = ConsumerSpec(
    service="probe",
    durable="probe-refusals",
    stream=MATCHING_STREAM,
    subject="matching.probe.>",
    ack_wait=timedelta(seconds=5),
    max_event_bytes=4096,
    max_event_depth=8,
)
SUBJECT = "matching.probe.happened"


def body(**fields: object) -> bytes:
    return json.dumps({"type": SUBJECT, **fields}).encode()


def nested(depth: int) -> bytes:
    return b'{"type": "matching.probe.happened", "x": ' + b"[" * depth + b"]" * depth + b"}"


def test_a_well_formed_event_on_its_own_subject_is_accepted() -> None:
    decoded, problem = refusal(body(data={"a": [1, 2, {"b": "ü"}]}), SUBJECT, SPEC)
    assert problem is None
    assert decoded["data"]["a"][2] == {"b": "ü"}


def test_an_event_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    _, problem = refusal(b"[" * 5000, SUBJECT, SPEC)
    assert problem == "event too large: 5000 bytes (limit 4096)"


@pytest.mark.parametrize("depth", [8, 1000, 4000])
def test_json_nested_deeper_than_the_limit_is_refused(depth: int) -> None:
    spec = SPEC if depth < 1000 else dataclasses.replace(SPEC, max_event_bytes=10_000)
    _, problem = refusal(nested(depth), SUBJECT, spec)
    assert problem == "invalid JSON: nested deeper than 8 levels"


def test_json_just_within_the_depth_limit_is_accepted() -> None:
    assert refusal(nested(6), SUBJECT, SPEC)[1] is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "invalid JSON: Expecting property name enclosed in double quotes"),
        (b'{"type": "matching.probe.happened", "x": "\xff"}', "invalid JSON: not UTF-8"),
        (
            '{"type": "matching.probe.happened"}'.encode("utf-16"),
            "invalid JSON: not UTF-8",
        ),
        (body(x="a\u0000b"), "invalid text: a NUL character"),
        (b'{"type": "matching.probe.happened", "x": "\\ud800"}', "invalid text: a lone surrogate"),
        (b'{"\\udfff": 1, "type": "matching.probe.happened"}', "invalid text: a lone surrogate"),
        (b"[1, 2]", "invalid envelope: no event type"),
        (b'{"type": 7}', "invalid envelope: no event type"),
    ],
)
def test_undecodable_bodies_are_refused_with_a_reason(raw: bytes, reason: str) -> None:
    _, problem = refusal(raw, SUBJECT, SPEC)
    assert problem is not None
    assert problem.startswith(reason)


def test_an_event_whose_type_is_not_its_subject_is_refused() -> None:
    _, problem = refusal(body(), "matching.probe.junk", SPEC)
    assert problem == (
        "event type 'matching.probe.happened' does not match its subject 'matching.probe.junk'"
    )


def test_a_dead_letter_of_a_large_body_keeps_its_beginning_size_and_hash() -> None:
    from shared.messaging.consumer import DEAD_LETTER_BODY_LIMIT, original_fields

    data = b"x" * (DEAD_LETTER_BODY_LIMIT * 3)
    raw = Msg(
        _client=None,  # type: ignore[arg-type]
        subject=SUBJECT,
        data=data,
        headers={"Nats-Msg-Id": "m-1", "Junk": "y" * 10_000},
    )
    fields = original_fields(raw)
    assert fields["original_truncated"] is True
    assert fields["original_size"] == DEAD_LETTER_BODY_LIMIT * 3
    assert fields["original_sha256"] == hashlib.sha256(data).hexdigest()
    assert len(fields["original_body"]) == DEAD_LETTER_BODY_LIMIT
    assert len(fields["original_headers"]["Junk"]) == 512

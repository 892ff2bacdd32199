"""The event envelope, modelled on CloudEvents 1.0 attribute names."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator


class Event(BaseModel):
    """Base of every event payload: frozen, strict about unknown fields, named in the past tense.

    Each subclass declares ``type: Literal["<context>.<noun>.<past_verb>"]``; the type is also
    the NATS subject it travels on.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: ClassVar[int] = 1

    @classmethod
    def event_type(cls) -> str:
        default = cls.model_fields["type"].default
        assert isinstance(default, str), f"{cls.__name__} must declare a type literal"
        return default


class Command(BaseModel):
    """Base of command payloads: imperative, addressed to one context."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: ClassVar[int] = 1


DataT = TypeVar("DataT", bound=BaseModel)


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_event_id() -> uuid.UUID:
    return uuid.uuid4()


class Envelope(BaseModel, Generic[DataT]):
    """What travels on the wire. ``id`` doubles as the ``Nats-Msg-Id`` header.

    ``id`` and ``time`` have no defaults: an event received without them would get a new id
    on each delivery, and the inbox could not recognise it. ``wrap`` sets them when producing.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID
    type: str
    source: str = Field(min_length=1, description="The service that emitted the event.")
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    schemaversion: int = Field(default=1, ge=1)
    correlationid: str = Field(min_length=1, description="One id for the whole flow.")
    causationid: str | None = Field(
        default=None, description="The id of the event that caused this one."
    )
    data: DataT

    @field_validator("time")
    @classmethod
    def _time_in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _type_matches_payload(self) -> Self:
        payload_type = getattr(self.data, "type", None)
        if isinstance(payload_type, str) and payload_type != self.type:
            msg = f"envelope type {self.type!r} does not match payload type {payload_type!r}"
            raise ValueError(msg)
        known = getattr(type(self.data), "schema_version", 1)
        if self.schemaversion > known:
            msg = (
                f"unknown schema version {self.schemaversion} of {self.type!r} "
                f"(this service reads up to version {known})"
            )
            raise ValueError(msg)
        return self

    @property
    def subject(self) -> str:
        return self.type

    @property
    def msg_id(self) -> str:
        return str(self.id)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def wrap(
    event: DataT,
    *,
    source: str,
    correlation_id: str | None = None,
    causation: Envelope[Any] | None = None,
    event_id: uuid.UUID | None = None,
) -> Envelope[DataT]:
    """Put an event into an envelope; the correlation id follows the causing event if given."""
    event_type = getattr(event, "type", None)
    if not isinstance(event_type, str):
        msg = f"{type(event).__name__} has no type literal"
        raise TypeError(msg)
    correlation = correlation_id or (causation.correlationid if causation else None)
    return Envelope[DataT](
        id=event_id or new_event_id(),
        time=utc_now(),
        type=event_type,
        source=source,
        schemaversion=getattr(type(event), "schema_version", 1),
        correlationid=correlation or str(new_event_id()),
        causationid=str(causation.id) if causation else None,
        data=event,
    )

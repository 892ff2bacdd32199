"""Events of the privacy context: erasure (GDPR Art. 17) and access (Art. 15) across services.

The events carry references only (request, contact and organisation ids) and counts, never a
name, an address or a number: each service finds the person's data in its own schema by id.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field

from shared.events.base import Event

ERASING_SERVICES = ("matching", "booking", "notify", "console")
"""The services that must confirm each erasure and export before it counts as done."""


class ErasureScope(StrEnum):
    CONTACT = "contact"
    ORGANISATION = "organisation"


class ErasureRequested(Event):
    """Staff asked to erase a person (a contact) or a whole organisation with its contacts."""

    type: Literal["privacy.erasure.requested"] = "privacy.erasure.requested"
    request_id: str = Field(min_length=1, max_length=64)
    scope: ErasureScope
    contact_ids: tuple[str, ...] = Field(description="Every contact to erase")
    party_ids: tuple[str, ...] = Field(
        default=(), description="Organisations (companies, providers) erased as a whole"
    )
    requested_by: str
    requested_at: AwareDatetime


class ErasureCompleted(Event):
    """One service erased or pseudonymised what it held about the request's people."""

    type: Literal["privacy.erasure.completed"] = "privacy.erasure.completed"
    request_id: str
    service: str
    rows: dict[str, int] = Field(description="Rows changed or deleted, per table")
    stream_messages_deleted: dict[str, int] = Field(
        default_factory=dict, description="Messages deleted, per JetStream stream"
    )
    completed_at: AwareDatetime


class ExportRequested(Event):
    """Staff asked for everything stored about a person (a contact)."""

    type: Literal["privacy.export.requested"] = "privacy.export.requested"
    request_id: str = Field(min_length=1, max_length=64)
    contact_ids: tuple[str, ...] = Field(min_length=1)
    requested_by: str
    requested_at: AwareDatetime


class ExportAssembled(Event):
    """One service's part of an export. It carries personal data by nature: the PRIVACY stream
    keeps it briefly (see ``PRIVACY_STREAM``) and matching stores the assembled document."""

    type: Literal["privacy.export.assembled"] = "privacy.export.assembled"
    request_id: str
    service: str
    records: dict[str, list[dict[str, Any]]] = Field(description="Rows per table, as JSON")
    assembled_at: AwareDatetime
    # A large history travels in several parts, each well below the consumers' and the NATS
    # server's payload limits; the export is whole when all ``parts`` of every service are in.
    part: int = Field(default=1, ge=1)
    parts: int = Field(default=1, ge=1)


PrivacyEvent = Annotated[
    ErasureRequested | ErasureCompleted | ExportRequested | ExportAssembled,
    Field(discriminator="type"),
]

__all__ = [
    "ERASING_SERVICES",
    "ErasureCompleted",
    "ErasureRequested",
    "ErasureScope",
    "ExportAssembled",
    "ExportRequested",
    "PrivacyEvent",
]

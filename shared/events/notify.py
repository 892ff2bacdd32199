"""Events of the notify context: the outcome of each delivery."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from shared.events.base import Event


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class NotificationDelivered(Event):
    type: Literal["notify.notification.delivered"] = "notify.notification.delivered"
    delivery_id: str
    source_event_id: str
    source_event_type: str
    meeting_id: str | None = None
    contact_id: str
    channel: Channel
    attempts: int = Field(ge=1)
    message_id: str | None = None
    delivered_at: AwareDatetime


class NotificationFailed(Event):
    type: Literal["notify.notification.failed"] = "notify.notification.failed"
    delivery_id: str
    source_event_id: str
    source_event_type: str
    meeting_id: str | None = None
    contact_id: str
    channel: Channel
    attempts: int = Field(ge=0)
    reason: str
    permanent: bool


NotifyEvent = Annotated[
    NotificationDelivered | NotificationFailed,
    Field(discriminator="type"),
]

__all__ = ["Channel", "NotificationDelivered", "NotificationFailed", "NotifyEvent"]

"""The dead-letter event: an event that could not be handled, with the reason and the original.

It travels on ``deadletter.<service>.<consumer>`` (not on its type) so that operators can
watch, permit and replay dead letters per consumer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from shared.events.base import Event


class EventDeadLettered(Event):
    type: Literal["deadletter.event.dead_lettered"] = "deadletter.event.dead_lettered"
    service: str
    consumer: str
    original_subject: str
    original_headers: dict[str, str]
    original_body: str = Field(
        description="The original body, UTF-8 (undecodable bytes replaced); its beginning only "
        "when ``original_truncated``"
    )
    original_truncated: bool = False
    original_size: int | None = Field(default=None, ge=0, description="Bytes of the original body")
    original_sha256: str | None = Field(default=None, description="SHA-256 of the original body")
    original_msg_id: str | None = None
    reason: str
    error_type: str
    deliveries: int = Field(ge=0)
    dead_lettered_at: AwareDatetime


__all__ = ["EventDeadLettered"]

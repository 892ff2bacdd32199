"""The audit trail across services: one event per recorded staff action."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from shared.events.base import Event


class AuditActionRecorded(Event):
    """A staff action was recorded in a service's append-only audit log."""

    type: Literal["audit.action.recorded"] = "audit.action.recorded"
    audit_id: uuid.UUID
    service: str = Field(description="The service whose audit log holds the record")
    recorded_at: AwareDatetime
    actor_subject: str = Field(description="The IdP subject (or client id) who acted")
    actor_name: str = Field(description="The actor's display name at the time")
    actor_client: str | None = Field(default=None, description="The OAuth client used")
    auth_method: Literal["oidc", "static"] = "oidc"
    action: str = Field(description="<service>.<operation>, e.g. matching.accept")
    targets: dict[str, str] = Field(
        default_factory=dict, description="Ids of what was acted on, e.g. proposal_id"
    )
    request_id: str
    client_address: str | None = None
    outcome: Literal["succeeded", "refused", "failed"]
    http_status: int

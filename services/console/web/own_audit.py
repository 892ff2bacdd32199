"""The console's own staff writes (replaying or discarding a dead letter go over its operator
connection, not through a service) land in its own audit log, like every service's writes, and
reach the audit trail through the same ``audit.action.recorded`` event."""

from __future__ import annotations

import asyncpg
from starlette.requests import Request

from services.console.web.render import settings_of
from services.console.web.session import session_of
from shared import audit
from shared.auth import Actor

SERVICE = "console"


def actor_of(request: Request) -> Actor:
    """The signed-in person; without an identity provider, the console's service token."""
    data = session_of(request).data
    subject = str(data.get("sub") or "")
    if not subject:
        return Actor(SERVICE, "Konsole (Dienstkennung)", frozenset(), None, "static")
    return Actor(
        subject,
        str(data.get("name") or subject),
        frozenset(str(r) for r in data.get("roles") or []),
        settings_of(request).oidc_client_id,
    )


async def record(
    conn: asyncpg.Connection, request: Request, action: str, status: int, **targets: str
) -> None:
    """One audit record of this request, in the caller's transaction."""
    context = audit.AuditContext(
        service=SERVICE,
        action=f"{SERVICE}.{action}",
        actor=actor_of(request),
        request_id=audit.request_id_of(request),
        client_address=request.client.host if request.client else None,
        targets=targets,
    )
    await audit.write(conn, context, audit.outcome_of(status), status)

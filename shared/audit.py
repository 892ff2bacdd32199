"""The audit log: one append-only record per staff write, and an ``audit.action.recorded`` event.

Every write through a guarded staff route (``shared.auth.GuardedRoute``) leaves exactly one
record. An endpoint that changes state calls ``record`` inside its own transaction, so the record
commits or rolls back with the change; for any write that did not (or whose transaction rolled
back, or that was refused), the route writes the record itself once the answer is known. The
event goes out through the outbox, so the console can show one trail across services.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
from fastapi import Request

from shared.auth import Actor
from shared.db import transaction
from shared.events.audit import AuditActionRecorded
from shared.events.base import wrap
from shared.messaging.outbox import enqueue

Outcome = Literal["succeeded", "refused", "failed"]
REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_INSERT = """
INSERT INTO audit_log (audit_id, recorded_at, actor_subject, actor_name, actor_client,
                       auth_method, action, targets, request_id, client_address, outcome,
                       http_status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10, $11, $12)
"""


@dataclass
class AuditContext:
    """What the route knows about one staff write, kept on ``request.state.audit``."""

    service: str
    action: str
    actor: Actor
    request_id: str
    client_address: str | None
    targets: dict[str, str] = field(default_factory=dict)
    recorded_id: uuid.UUID | None = None


def request_id_of(request: Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SAFE_REQUEST_ID.match(given) else str(uuid.uuid4())


def outcome_of(status: int) -> Outcome:
    if status >= 500:
        return "failed"
    return "refused" if status >= 400 else "succeeded"


def context_of(request: Request) -> AuditContext | None:
    found: AuditContext | None = getattr(request.state, "audit", None)
    return found


async def write(
    conn: asyncpg.Connection, context: AuditContext, outcome: Outcome, status: int
) -> uuid.UUID:
    """Insert the record and enqueue its event on ``conn`` (in the caller's transaction)."""
    audit_id = uuid.uuid4()
    now = datetime.now(UTC)
    event = AuditActionRecorded(
        audit_id=audit_id,
        service=context.service,
        recorded_at=now,
        actor_subject=context.actor.subject,
        actor_name=context.actor.display_name,
        actor_client=context.actor.client_id,
        auth_method="static" if context.actor.method == "static" else "oidc",
        action=context.action,
        targets=context.targets,
        request_id=context.request_id,
        client_address=context.client_address,
        outcome=outcome,
        http_status=status,
    )
    await conn.execute(
        _INSERT,
        audit_id,
        now,
        event.actor_subject,
        event.actor_name,
        event.actor_client,
        event.auth_method,
        event.action,
        json.dumps(event.targets),
        event.request_id,
        event.client_address,
        outcome,
        status,
    )
    envelope = wrap(event, source=context.service, correlation_id=context.request_id)
    await enqueue(conn, envelope)
    return audit_id


async def record(
    conn: asyncpg.Connection,
    request: Request,
    *,
    status: int = 200,
    **targets: str,
) -> None:
    """Record this request's action inside the endpoint's transaction, with the status the
    endpoint will answer (a 409 after a recorded change, e.g. a run where everyone was vetoed,
    is recorded as refused).

    ``targets`` add ids the path does not carry (e.g. the match an accept created)."""
    context = context_of(request)
    if context is None:
        return
    context.targets |= {key: str(value) for key, value in targets.items()}
    context.recorded_id = await write(conn, context, outcome_of(status), status)


async def settle(request: Request, pool: Any, status: int) -> None:
    """After the endpoint: write the one record if the endpoint's own did not commit."""
    context = context_of(request)
    if context is None:
        return
    if context.recorded_id is not None and status < 400:
        return  # the endpoint returned after its transaction (and the record) committed
    async with transaction(pool) as conn:
        if context.recorded_id is not None:
            committed = await conn.fetchval(
                "SELECT 1 FROM audit_log WHERE audit_id = $1", context.recorded_id
            )
            if committed:
                return
        await write(conn, context, outcome_of(status), status)

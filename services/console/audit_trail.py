"""The audit trail in the read model: its projection and its reads.

A record names what its endpoint's path carried (``targets``): a need, a proposal, a run, a
meeting. The trail of a need gathers the records of the need itself and of its proposals, runs
and meetings, looked up when the page is read (an audit event may arrive before the event that
tells the read model which need a proposal belongs to).
"""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from services.console.domain.paging import Cursor, Sort
from services.console.queries import Filters, Page, keyset_page
from shared.events.audit import AuditActionRecorded

_INSERT = """
INSERT INTO audit_trail (audit_id, service, recorded_at, actor_subject, actor_name, actor_client,
                         action, targets, request_id, outcome, http_status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10, $11)
ON CONFLICT (audit_id) DO NOTHING
"""
_NEED_TARGETS = """
SELECT 'need_id' AS key, $1::text AS id
UNION SELECT 'proposal_id', proposal_id FROM proposals WHERE need_id = $1
UNION SELECT 'match_id', match_id FROM proposals WHERE need_id = $1 AND match_id IS NOT NULL
UNION SELECT 'run_id', run_id FROM runs WHERE $1 = ANY(need_ids)
UNION SELECT 'meeting_id', meeting_id FROM meetings WHERE need_id = $1
"""
NEWEST_FIRST = Sort("neu", "a.recorded_at", True)


async def project(conn: asyncpg.Connection, event: AuditActionRecorded, at: datetime) -> None:
    del at  # the record keeps its own time
    await conn.execute(
        _INSERT,
        str(event.audit_id),
        event.service,
        event.recorded_at,
        event.actor_subject,
        event.actor_name,
        event.actor_client,
        event.action,
        json.dumps(event.targets),
        event.request_id,
        event.outcome,
        event.http_status,
    )


async def targets_of_need(conn: asyncpg.Connection, need_id: str) -> list[str]:
    """The need and everything done to it, as JSON objects a record's targets may contain."""
    rows = await conn.fetch(_NEED_TARGETS, need_id)
    return [json.dumps({row["key"]: row["id"]}) for row in rows]


async def trail(
    conn: asyncpg.Connection,
    *,
    need_id: str = "",
    meeting_id: str = "",
    actor: str = "",
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Cursor | None,
    limit: int,
) -> Page:
    f = Filters()
    if need_id:
        wanted = await targets_of_need(conn, need_id)
        f.add("EXISTS (SELECT 1 FROM unnest(?::text[]) t WHERE a.targets @> t::jsonb)", wanted)
    if meeting_id:
        f.add("a.targets @> ?::text::jsonb", json.dumps({"meeting_id": meeting_id}))
    if actor:
        f.add("a.actor_subject = ?", actor)
    if action:
        f.add("a.action = ?", action)
    if since is not None:
        f.add("a.recorded_at >= ?", since)
    if until is not None:
        f.add("a.recorded_at < ?", until)
    select = """SELECT a.*, a.recorded_at AS sort_value FROM audit_trail a"""
    page = await keyset_page(
        conn, select, f, NEWEST_FIRST, "a.audit_id", cursor, limit, "::timestamptz"
    )
    for row in page.rows:
        targets = row["targets"]
        row["targets"] = json.loads(targets) if isinstance(targets, str) else dict(targets)
    return page


async def actions(conn: asyncpg.Connection) -> list[str]:
    """The actions recorded so far, for the filter."""
    rows = await conn.fetch("SELECT DISTINCT action FROM audit_trail ORDER BY action")
    return [row["action"] for row in rows]

"""SQL of the booking service. Callers own the transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

_RECORD_RECEIVED = """
INSERT INTO received_events (event_type, count) VALUES ($1, 1)
ON CONFLICT (event_type) DO UPDATE SET count = received_events.count + 1
"""
_UPSERT_VENUE = """
INSERT INTO venues (venue_id, doc) VALUES ($1, $2::text::jsonb)
ON CONFLICT (venue_id) DO UPDATE SET doc = EXCLUDED.doc
"""
_VENUES = "SELECT venue_id, doc::text AS doc FROM venues ORDER BY venue_id"
# DO UPDATE (not DO NOTHING) so that a row inserted by a concurrent transaction is returned too.
_RESOURCE_KEYS = """
INSERT INTO resources (resource_id) SELECT unnest($1::text[])
ON CONFLICT (resource_id) DO UPDATE SET resource_id = EXCLUDED.resource_id
RETURNING resource_id, resource_key
"""
_LOCK = "SELECT pg_advisory_xact_lock($1)"
_BUSY = """
SELECT r.resource_id, lower(a.span) AS starts, upper(a.span) AS ends
FROM allocations a JOIN resources r USING (resource_key)
WHERE a.live AND r.resource_id = ANY($1::text[]) AND a.span && tstzrange($2, $3)
"""
_INSERT_MEETING = """
INSERT INTO meetings (meeting_id, match_id, uid, sequence, status, starts_at, ends_at, details)
VALUES ($1, $2, $3, 0, 'confirmed', $4, $5, $6::text::jsonb)
"""
_INSERT_ALLOCATION = """
INSERT INTO allocations (meeting_id, resource_key, span) VALUES ($1, $2, tstzrange($3, $4))
"""
_MEETING_FOR_MATCH = "SELECT meeting_id FROM meetings WHERE match_id = $1"
_MEETING = """
SELECT meeting_id, match_id, uid, sequence, status, starts_at, ends_at, details::text AS details
FROM meetings WHERE meeting_id = $1
"""
_MEETING_FOR_UPDATE = _MEETING + " FOR UPDATE"
_MEETINGS = """
SELECT meeting_id, match_id, uid, sequence, status, starts_at, ends_at, details::text AS details
FROM meetings
WHERE ($1::text IS NULL OR status = $1)
  AND ($2::text IS NULL OR details::text ILIKE '%' || $2 || '%')
ORDER BY starts_at LIMIT $3
"""
_UPDATE_MEETING = """
UPDATE meetings SET sequence = $2, status = $3, starts_at = $4, ends_at = $5,
    details = $6::text::jsonb
WHERE meeting_id = $1
"""
_RELEASE = "UPDATE allocations SET live = false WHERE meeting_id = $1 AND live"
_OVERLAPS = """
SELECT count(*) FROM allocations a JOIN allocations b
  ON a.resource_key = b.resource_key AND a.ctid < b.ctid AND a.span && b.span
WHERE a.live AND b.live
"""
_INSERT_REMINDER = """
INSERT INTO reminders (reminder_id, meeting_id, lead_minutes, due_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (reminder_id) DO UPDATE SET due_at = EXCLUDED.due_at, sent_at = NULL
"""
_DROP_REMINDERS = "DELETE FROM reminders WHERE meeting_id = $1 AND sent_at IS NULL"
_DUE_REMINDERS = """
SELECT reminder_id, meeting_id, lead_minutes FROM reminders
WHERE sent_at IS NULL AND due_at <= $1
ORDER BY due_at LIMIT $2
FOR UPDATE SKIP LOCKED
"""
_MARK_REMINDER = "UPDATE reminders SET sent_at = now() WHERE reminder_id = $1"
_RESPOND = """
INSERT INTO responses (meeting_id, contact_id, response) VALUES ($1, $2, $3)
ON CONFLICT (meeting_id, contact_id) DO UPDATE SET response = EXCLUDED.response,
    answered_at = now()
"""


async def record_received(conn: asyncpg.Connection, event_type: str) -> None:
    await conn.execute(_RECORD_RECEIVED, event_type)


async def upsert_venue(conn: asyncpg.Connection, venue_id: str, doc: dict[str, Any]) -> None:
    await conn.execute(_UPSERT_VENUE, venue_id, json.dumps(doc))


async def venues(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [json.loads(row["doc"]) for row in await conn.fetch(_VENUES)]


async def resource_keys(conn: asyncpg.Connection, resource_ids: list[str]) -> dict[str, int]:
    rows = await conn.fetch(_RESOURCE_KEYS, sorted(set(resource_ids)))
    keys = {row["resource_id"]: row["resource_key"] for row in rows}
    assert set(keys) == set(resource_ids), "every resource must have a key"
    return keys


async def lock_resources(conn: asyncpg.Connection, keys: list[int]) -> None:
    """In sorted order, so that concurrent bookings never wait on each other in a cycle."""
    for key in sorted(set(keys)):
        await conn.execute(_LOCK, key)


async def busy(
    conn: asyncpg.Connection, resource_ids: list[str], since: datetime, until: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    result: dict[str, list[tuple[datetime, datetime]]] = {}
    for row in await conn.fetch(_BUSY, resource_ids, since, until):
        result.setdefault(row["resource_id"], []).append((row["starts"], row["ends"]))
    return result


async def meeting_for_match(conn: asyncpg.Connection, match_id: str) -> str | None:
    value: str | None = await conn.fetchval(_MEETING_FOR_MATCH, match_id)
    return value


async def insert_meeting(
    conn: asyncpg.Connection,
    meeting_id: str,
    match_id: str,
    uid: str,
    starts: datetime,
    ends: datetime,
    details: dict[str, Any],
) -> None:
    await conn.execute(
        _INSERT_MEETING, meeting_id, match_id, uid, starts, ends, json.dumps(details)
    )


async def allocate(
    conn: asyncpg.Connection, meeting_id: str, keys: list[int], starts: datetime, ends: datetime
) -> None:
    for key in keys:
        await conn.execute(_INSERT_ALLOCATION, meeting_id, key, starts, ends)


def _meeting(row: asyncpg.Record | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {**dict(row), "details": json.loads(row["details"])}


async def meeting(
    conn: asyncpg.Connection, meeting_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    return _meeting(
        await conn.fetchrow(_MEETING_FOR_UPDATE if for_update else _MEETING, meeting_id)
    )


async def meetings(
    conn: asyncpg.Connection, status: str | None, text: str | None, limit: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(_MEETINGS, status, text, limit)
    return [m for row in rows if (m := _meeting(row)) is not None]


async def update_meeting(
    conn: asyncpg.Connection,
    meeting_id: str,
    sequence: int,
    status: str,
    starts: datetime,
    ends: datetime,
    details: dict[str, Any],
) -> None:
    await conn.execute(
        _UPDATE_MEETING, meeting_id, sequence, status, starts, ends, json.dumps(details)
    )


async def release(conn: asyncpg.Connection, meeting_id: str) -> None:
    await conn.execute(_RELEASE, meeting_id)


async def overlapping_live_allocations(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval(_OVERLAPS)
    return count


async def schedule_reminder(
    conn: asyncpg.Connection, reminder_id: str, meeting_id: str, lead_minutes: int, due: datetime
) -> None:
    await conn.execute(_INSERT_REMINDER, reminder_id, meeting_id, lead_minutes, due)


async def drop_pending_reminders(conn: asyncpg.Connection, meeting_id: str) -> None:
    await conn.execute(_DROP_REMINDERS, meeting_id)


async def due_reminders(
    conn: asyncpg.Connection, now: datetime, limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(_DUE_REMINDERS, now, limit)
    return rows


async def mark_reminder_sent(conn: asyncpg.Connection, reminder_id: str) -> None:
    await conn.execute(_MARK_REMINDER, reminder_id)


async def record_response(
    conn: asyncpg.Connection, meeting_id: str, contact_id: str, response: str
) -> None:
    await conn.execute(_RESPOND, meeting_id, contact_id, response)

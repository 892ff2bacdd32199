"""SQL of the booking service. Callers own the transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.db import like_escaped

_UPSERT_VENUE = """
INSERT INTO venues (venue_id, doc) VALUES ($1, $2::text::jsonb)
ON CONFLICT (venue_id) DO UPDATE SET doc = EXCLUDED.doc
"""
_VENUES = "SELECT venue_id, doc::text AS doc FROM venues ORDER BY venue_id"
# Reading first takes no row locks: a DO UPDATE upsert locked the room's row until commit and
# so queued every booking of that room behind the one before. New resources are inserted with
# DO NOTHING; a row a concurrent transaction inserted meanwhile is read by the next statement.
_RESOURCE_KEYS = "SELECT resource_id, resource_key FROM resources WHERE resource_id = ANY($1)"
_NEW_RESOURCES = """
INSERT INTO resources (resource_id) SELECT unnest($1::text[]) ON CONFLICT (resource_id) DO NOTHING
"""
_LOCK = """
SELECT count(pg_advisory_xact_lock(key))
FROM (SELECT DISTINCT unnest($1::bigint[]) AS key ORDER BY 1) AS sorted_keys
"""
_TRY_LOCK = """
SELECT key FROM (SELECT DISTINCT unnest($1::bigint[]) AS key ORDER BY 1) AS sorted_keys
WHERE NOT pg_try_advisory_xact_lock(key)
"""
# Merged per resource in the database (range_agg joins touching spans): a fully booked room
# day comes back as one row instead of one per meeting.
# Booking's own allocations, and the times busy in the providers' own calendars.
_BUSY = """
SELECT resource_id, lower(merged) AS starts, upper(merged) AS ends
FROM (
    SELECT resource_id, unnest(range_agg(span)) AS merged
    FROM (
        SELECT r.resource_id, a.span
        FROM allocations a JOIN resources r USING (resource_key)
        WHERE a.live AND r.resource_id = ANY($1::text[]) AND a.span && tstzrange($2, $3)
        UNION ALL
        SELECT 'provider:' || b.provider_id, b.span
        FROM provider_busy b
        WHERE b.provider_id = ANY($4::text[]) AND b.span && tstzrange($2, $3)
    ) AS spans
    GROUP BY resource_id
) AS busy
"""
# The same, leaving out one meeting's own allocations (and held options): the times it may move to.
_BUSY_EXCEPT = _BUSY.replace("WHERE a.live", "WHERE a.live AND a.meeting_id <> $5")
_INSERT_MEETING = """
INSERT INTO meetings (meeting_id, match_id, uid, sequence, status, starts_at, ends_at, details)
VALUES ($1, $2, $3, 0, 'confirmed', $4, $5, $6::text::jsonb)
"""
_INSERT_ALLOCATIONS = """
INSERT INTO allocations (meeting_id, resource_key, span, option)
SELECT $1, unnest($2::bigint[]), tstzrange($3, $4), $5
"""
_MEETING_FOR_MATCH = "SELECT meeting_id FROM meetings WHERE match_id = $1"
_MATCHES_WITH_MEETINGS = "SELECT match_id FROM meetings WHERE match_id = ANY($1::text[])"
_COLUMNS = """meeting_id, match_id, uid, sequence, status, starts_at, ends_at, declines, attendance,
    details::text AS details"""
_MEETING = f"SELECT {_COLUMNS} FROM meetings WHERE meeting_id = $1"
_MEETING_FOR_UPDATE = _MEETING + " FOR UPDATE"
_MEETING_BY_UID = f"SELECT {_COLUMNS} FROM meetings WHERE uid = $1"
_MEETINGS = f"""
SELECT {_COLUMNS}
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
_RELEASE_OPTION = """
UPDATE allocations SET live = false WHERE meeting_id = $1 AND option = $2 AND live
"""
_RELEASE_HOLDS = "UPDATE allocations SET live = false WHERE meeting_id = $1 AND option > 0 AND live"
_DROP_HELD_OPTIONS = "DELETE FROM held_options WHERE meeting_id = $1"
_INSERT_HELD_OPTION = """
INSERT INTO held_options (meeting_id, option, starts_at, room_id, room_name)
VALUES ($1, $2, $3, $4, $5)
"""
_HELD_OPTIONS = """
SELECT option, starts_at, room_id, room_name FROM held_options WHERE meeting_id = $1
ORDER BY option
"""
_PROMOTE_OPTION = """
WITH dropped AS (DELETE FROM held_options WHERE meeting_id = $1 AND option = $2)
UPDATE allocations SET option = 0 WHERE meeting_id = $1 AND option = $2 AND live
"""
_OVERLAPS = """
SELECT count(*) FROM allocations a JOIN allocations b
  ON a.resource_key = b.resource_key AND a.ctid < b.ctid AND a.span && b.span
WHERE a.live AND b.live
"""
_INSERT_REMINDERS = """
INSERT INTO reminders (reminder_id, meeting_id, lead_minutes, due_at)
SELECT $2 || ':' || lead, $2, lead, $3::timestamptz - make_interval(mins => lead)
FROM unnest($1::integer[]) AS lead
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


async def upsert_venue(conn: asyncpg.Connection, venue_id: str, doc: dict[str, Any]) -> None:
    await conn.execute(_UPSERT_VENUE, venue_id, json.dumps(doc))


async def venues(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [json.loads(row["doc"]) for row in await conn.fetch(_VENUES)]


async def resource_keys(conn: asyncpg.Connection, resource_ids: list[str]) -> dict[str, int]:
    wanted = sorted(set(resource_ids))
    rows = await conn.fetch(_RESOURCE_KEYS, wanted)
    if len(rows) < len(wanted):
        await conn.execute(_NEW_RESOURCES, wanted)
        rows = await conn.fetch(_RESOURCE_KEYS, wanted)
    keys = {row["resource_id"]: row["resource_key"] for row in rows}
    assert set(keys) == set(resource_ids), "every resource must have a key"
    return keys


async def lock_resources(conn: asyncpg.Connection, keys: list[int]) -> None:
    """In sorted order, so that concurrent bookings never wait on each other in a cycle."""
    await conn.fetchval(_LOCK, sorted(set(keys)))


async def try_lock_resources(conn: asyncpg.Connection, keys: list[int]) -> set[int]:
    """Lock what is free now, without waiting; the keys another transaction holds."""
    if not keys:
        return set()
    return {row["key"] for row in await conn.fetch(_TRY_LOCK, sorted(set(keys)))}


async def busy(
    conn: asyncpg.Connection, resource_ids: list[str], since: datetime, until: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    providers = _providers(resource_ids)
    return _by_resource(await conn.fetch(_BUSY, resource_ids, since, until, providers))


async def busy_except(
    conn: asyncpg.Connection,
    resource_ids: list[str],
    since: datetime,
    until: datetime,
    meeting_id: str,
) -> dict[str, list[tuple[datetime, datetime]]]:
    """``busy``, as if the meeting ``meeting_id`` had released its slot and held options."""
    providers = _providers(resource_ids)
    return _by_resource(
        await conn.fetch(_BUSY_EXCEPT, resource_ids, since, until, providers, meeting_id)
    )


def _providers(resource_ids: list[str]) -> list[str]:
    """The providers among the resources, whose own calendars also count as busy."""
    return [r.removeprefix("provider:") for r in resource_ids if r.startswith("provider:")]


def _by_resource(rows: list[asyncpg.Record]) -> dict[str, list[tuple[datetime, datetime]]]:
    result: dict[str, list[tuple[datetime, datetime]]] = {}
    for row in rows:
        result.setdefault(row["resource_id"], []).append((row["starts"], row["ends"]))
    return result


async def meeting_for_match(conn: asyncpg.Connection, match_id: str) -> str | None:
    value: str | None = await conn.fetchval(_MEETING_FOR_MATCH, match_id)
    return value


async def matches_with_meetings(conn: asyncpg.Connection, match_ids: list[str]) -> set[str]:
    return {row["match_id"] for row in await conn.fetch(_MATCHES_WITH_MEETINGS, match_ids)}


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
    conn: asyncpg.Connection,
    meeting_id: str,
    keys: list[int],
    starts: datetime,
    ends: datetime,
    option: int = 0,
) -> None:
    """Option 0 is the booked slot; a higher option is a held alternative."""
    await conn.execute(_INSERT_ALLOCATIONS, meeting_id, keys, starts, ends, option)


async def insert_booked(conn: asyncpg.Connection, booked: list[Booked]) -> None:
    """Meetings with their allocations, held options and reminders; a few round trips in all."""
    await conn.executemany(
        _INSERT_MEETING,
        [
            (b.meeting_id, b.match_id, b.uid, b.starts, b.ends, json.dumps(b.details))
            for b in booked
        ],
    )
    await conn.executemany(
        _INSERT_ALLOCATIONS,
        [
            (b.meeting_id, keys, starts, ends, option)
            for b in booked
            for option, (keys, starts, ends) in enumerate(b.allocations)
        ],
    )
    held = [(b.meeting_id, *option) for b in booked for option in b.held_options]
    if held:
        await conn.executemany(_INSERT_HELD_OPTION, held)
    await conn.executemany(
        _INSERT_REMINDERS, [(b.reminder_leads, b.meeting_id, b.starts) for b in booked]
    )


@dataclass(frozen=True)
class Booked:
    """A meeting as one insert: option 0 of ``allocations`` is the booked slot."""

    meeting_id: str
    match_id: str
    uid: str
    starts: datetime
    ends: datetime
    details: dict[str, Any]
    allocations: list[tuple[list[int], datetime, datetime]]
    held_options: list[tuple[int, datetime, str | None, str | None]]
    reminder_leads: list[int]


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


async def meeting_by_uid(
    conn: asyncpg.Connection, uid: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    sql = _MEETING_BY_UID + " FOR UPDATE" if for_update else _MEETING_BY_UID
    return _meeting(await conn.fetchrow(sql, uid))


async def meetings(
    conn: asyncpg.Connection, status: str | None, text: str | None, limit: int
) -> list[dict[str, Any]]:
    pattern = None if text is None else like_escaped(text)
    rows = await conn.fetch(_MEETINGS, status, pattern, limit)
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


async def schedule_reminders(
    conn: asyncpg.Connection, meeting_id: str, leads_minutes: list[int], start: datetime
) -> None:
    """One reminder per lead, ``<meeting>:<lead>``, due that many minutes before the start."""
    await conn.execute(_INSERT_REMINDERS, leads_minutes, meeting_id, start)


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


async def release_option(conn: asyncpg.Connection, meeting_id: str, option: int) -> None:
    await conn.execute(_RELEASE_OPTION, meeting_id, option)


async def drop_held_options(conn: asyncpg.Connection, meeting_id: str) -> None:
    """The held alternatives are no longer needed: free their resources."""
    await conn.execute(_RELEASE_HOLDS, meeting_id)
    await conn.execute(_DROP_HELD_OPTIONS, meeting_id)


async def hold_option(
    conn: asyncpg.Connection,
    meeting_id: str,
    option: int,
    starts: datetime,
    room_id: str | None,
    room_name: str | None,
) -> None:
    await conn.execute(_INSERT_HELD_OPTION, meeting_id, option, starts, room_id, room_name)


async def held_options(conn: asyncpg.Connection, meeting_id: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(_HELD_OPTIONS, meeting_id)
    return rows


async def promote_option(conn: asyncpg.Connection, meeting_id: str, option: int) -> None:
    """The held alternative becomes the booked slot (the caller released the old one)."""
    await conn.execute(_PROMOTE_OPTION, meeting_id, option)

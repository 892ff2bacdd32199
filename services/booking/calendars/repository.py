"""SQL of the providers' calendars. Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.booking.domain.calendar import Interval

_COLUMNS = "provider_id, kind, url, username, secret_ref, write_meetings"
_UPSERT = """
INSERT INTO provider_calendars (provider_id, kind, url, username, secret_ref, write_meetings)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (provider_id) DO UPDATE SET
    kind = EXCLUDED.kind, url = EXCLUDED.url, username = EXCLUDED.username,
    secret_ref = EXCLUDED.secret_ref, write_meetings = EXCLUDED.write_meetings,
    registered_at = now(), fetched_at = NULL, attempted_at = NULL, failure = NULL,
    busy_count = 0, leased_until = NULL
"""
_FORGET_BUSY = "DELETE FROM provider_busy WHERE provider_id = $1"
_FORGET_RETRIES = "DELETE FROM calendar_copy_retries WHERE provider_id = $1"
_STATUS = f"""
SELECT {_COLUMNS}, registered_at, fetched_at, attempted_at, failure, busy_count
FROM provider_calendars WHERE provider_id = $1
"""
_DELETE = "DELETE FROM provider_calendars WHERE provider_id = $1 RETURNING provider_id"
# Claimed for a while, so that another replica's schedule passes over it meanwhile.
_CLAIM_DUE = f"""
UPDATE provider_calendars SET leased_until = now() + make_interval(secs => $2)
WHERE provider_id IN (
    SELECT provider_id FROM provider_calendars
    WHERE (attempted_at IS NULL OR attempted_at < now() - make_interval(secs => $1))
      AND (leased_until IS NULL OR leased_until < now())
    ORDER BY attempted_at NULLS FIRST LIMIT $3
    FOR UPDATE SKIP LOCKED
)
RETURNING {_COLUMNS}
"""
_OLDER_THAN = f"""
SELECT {_COLUMNS} FROM provider_calendars
WHERE provider_id = ANY($1::text[])
  AND (attempted_at IS NULL OR attempted_at < now() - make_interval(secs => $2))
"""
_STORED = """
UPDATE provider_calendars SET fetched_at = $2, attempted_at = $2, failure = NULL,
    busy_count = $3, leased_until = NULL
WHERE provider_id = $1 AND registered_at <= $2
RETURNING provider_id
"""
_STORE_BUSY = """
INSERT INTO provider_busy (provider_id, span)
SELECT $1, tstzrange(s, e) FROM unnest($2::timestamptz[], $3::timestamptz[]) AS t(s, e)
"""
_FAILED = """
UPDATE provider_calendars SET attempted_at = $2, failure = $3, leased_until = NULL
WHERE provider_id = $1
"""
_STALE_COUNT = "SELECT count(*) FROM provider_calendars WHERE failure IS NOT NULL"
_BUSY_DURING = """
SELECT EXISTS (SELECT 1 FROM provider_busy WHERE provider_id = $1 AND span && tstzrange($2, $3))
"""


@dataclass(frozen=True)
class CalendarSource:
    provider_id: str
    kind: str  # "caldav" or "ical"
    url: str
    username: str
    secret_ref: str | None
    write_meetings: bool


def _source(row: asyncpg.Record) -> CalendarSource:
    return CalendarSource(**{key: row[key] for key in CalendarSource.__dataclass_fields__})


async def register(conn: asyncpg.Connection, source: CalendarSource) -> None:
    """A new registration starts without busy times until its first fetch."""
    await conn.execute(
        _UPSERT,
        source.provider_id,
        source.kind,
        source.url,
        source.username,
        source.secret_ref,
        source.write_meetings,
    )
    await conn.execute(_FORGET_BUSY, source.provider_id)
    await conn.execute(_FORGET_RETRIES, source.provider_id)  # a changed calendar is tried at once


async def status(conn: asyncpg.Connection, provider_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_STATUS, provider_id)
    return None if row is None else dict(row)


async def delete(conn: asyncpg.Connection, provider_id: str) -> bool:
    await conn.execute(_FORGET_RETRIES, provider_id)
    return await conn.fetchval(_DELETE, provider_id) is not None


async def claim_due(
    conn: asyncpg.Connection, every_seconds: float, lease_seconds: float, limit: int
) -> list[CalendarSource]:
    rows = await conn.fetch(_CLAIM_DUE, every_seconds, lease_seconds, limit)
    return [_source(row) for row in rows]


async def not_tried_since(
    conn: asyncpg.Connection, provider_ids: list[str], seconds: float
) -> list[CalendarSource]:
    return [_source(row) for row in await conn.fetch(_OLDER_THAN, provider_ids, seconds)]


async def store_busy(
    conn: asyncpg.Connection, provider_id: str, busy: list[Interval], fetched_at: datetime
) -> None:
    """Replaces the busy times; none if the calendar was registered anew meanwhile."""
    if await conn.fetchval(_STORED, provider_id, fetched_at, len(busy)) is None:
        return
    await conn.execute(_FORGET_BUSY, provider_id)
    await conn.execute(
        _STORE_BUSY, provider_id, [start for start, _ in busy], [end for _, end in busy]
    )


async def record_failure(
    conn: asyncpg.Connection, provider_id: str, reason: str, attempted_at: datetime
) -> None:
    """The last busy times stay in use (stale while the calendar fails)."""
    await conn.execute(_FAILED, provider_id, attempted_at, reason)


async def busy_during(
    conn: asyncpg.Connection, provider_id: str, start: datetime, end: datetime
) -> bool:
    """Whether the provider's own calendar (as last fetched) is busy during [start, end)."""
    busy: bool = await conn.fetchval(_BUSY_DURING, provider_id, start, end)
    return busy


async def failing_count(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval(_STALE_COUNT)
    return count


# Meetings of providers who asked for them in their CalDAV calendar, not written as they are now
# (new, moved or cancelled since). A cancelled meeting never written needs nothing.
_COPIES_DUE = f"""
SELECT m.meeting_id, m.uid, m.sequence, m.status, m.details::text AS details,
       {", ".join("c." + column for column in _COLUMNS.split(", "))},
       k.meeting_id IS NOT NULL AS written
FROM provider_calendars c
JOIN meetings m ON m.details->'attendees' @> jsonb_build_array(jsonb_build_object(
    'party_kind', 'provider', 'party_id', c.provider_id))
LEFT JOIN calendar_copies k ON k.meeting_id = m.meeting_id AND k.provider_id = c.provider_id
LEFT JOIN calendar_copy_retries r ON r.meeting_id = m.meeting_id AND r.provider_id = c.provider_id
WHERE c.write_meetings AND c.kind = 'caldav' AND m.ends_at > $1
  AND (r.retry_at IS NULL OR r.retry_at <= now())
  AND (k.meeting_id IS NULL OR k.sequence <> m.sequence OR k.status <> m.status)
  AND NOT (k.meeting_id IS NULL AND m.status = 'cancelled')
ORDER BY m.starts_at LIMIT $2
"""
_FORGET_RETRY = "DELETE FROM calendar_copy_retries WHERE meeting_id = $1 AND provider_id = $2"
# The wait doubles with every failure, from $3 seconds up to $4.
_FAILED_COPY = """
INSERT INTO calendar_copy_retries (meeting_id, provider_id, failures, retry_at)
VALUES ($1, $2, 1, now() + make_interval(secs => $3))
ON CONFLICT (meeting_id, provider_id) DO UPDATE
SET failures = calendar_copy_retries.failures + 1,
    retry_at = now() + make_interval(
        secs => least($3 * power(2, calendar_copy_retries.failures), $4))
RETURNING failures, retry_at
"""
_WRITTEN = """
INSERT INTO calendar_copies (meeting_id, provider_id, sequence, status) VALUES ($1, $2, $3, $4)
ON CONFLICT (meeting_id, provider_id) DO UPDATE
SET sequence = EXCLUDED.sequence, status = EXCLUDED.status, written_at = now()
"""


@dataclass(frozen=True)
class CopyDue:
    source: CalendarSource
    meeting: dict[str, Any]  # uid, sequence, status, details (JSON text)
    written: bool


async def copies_due(conn: asyncpg.Connection, since: datetime, limit: int) -> list[CopyDue]:
    rows = await conn.fetch(_COPIES_DUE, since, limit)
    meeting_keys = ("meeting_id", "uid", "sequence", "status", "details")
    return [
        CopyDue(_source(row), {key: row[key] for key in meeting_keys}, row["written"])
        for row in rows
    ]


async def copy_written(
    conn: asyncpg.Connection, meeting_id: str, provider_id: str, sequence: int, status: str
) -> None:
    await conn.execute(_WRITTEN, meeting_id, provider_id, sequence, status)
    await conn.execute(_FORGET_RETRY, meeting_id, provider_id)


async def copy_failed(
    conn: asyncpg.Connection,
    meeting_id: str,
    provider_id: str,
    first_wait: float,
    longest_wait: float,
) -> datetime:
    """Puts the copy off, twice as long as after its previous failure; when it is due again."""
    row = await conn.fetchrow(_FAILED_COPY, meeting_id, provider_id, first_wait, longest_wait)
    retry_at: datetime = row["retry_at"]
    return retry_at


_OF_MEETING = """
SELECT c.provider_id, c.kind, c.fetched_at, c.failure, c.write_meetings,
       k.sequence AS copied_sequence, k.status AS copied_status
FROM meetings m
JOIN provider_calendars c ON m.details->'attendees' @> jsonb_build_array(jsonb_build_object(
    'party_kind', 'provider', 'party_id', c.provider_id))
LEFT JOIN calendar_copies k ON k.meeting_id = m.meeting_id AND k.provider_id = c.provider_id
WHERE m.meeting_id = $1
"""


async def of_meeting(conn: asyncpg.Connection, meeting_id: str) -> list[dict[str, Any]]:
    """The calendars of the meeting's providers, with the copy written into each."""
    return [dict(row) for row in await conn.fetch(_OF_MEETING, meeting_id)]

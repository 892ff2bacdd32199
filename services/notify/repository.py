"""SQL of the notify service: the deliveries log. Callers own the transaction."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

_RECORD_RECEIVED = """
INSERT INTO received_events (event_type, count) VALUES ($1, 1)
ON CONFLICT (event_type) DO UPDATE SET count = received_events.count + 1
"""
_PLAN = """
INSERT INTO deliveries (delivery_id, event_id, event_type, meeting_id, channel, recipient,
                        contact_id, payload)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb)
ON CONFLICT (event_id, channel, recipient) DO NOTHING
"""
_LOCK_ALL = """
SELECT delivery_id, event_id, event_type, meeting_id, channel, recipient, contact_id, status,
       attempts, payload::text AS payload, not_before
FROM deliveries WHERE delivery_id = ANY($1::text[])
ORDER BY delivery_id
FOR UPDATE
"""
_OPEN_FOR_EVENTS = """
SELECT event_id, delivery_id FROM deliveries
WHERE event_id = ANY($1::uuid[]) AND status IN ('pending', 'retrying')
ORDER BY delivery_id
"""
_SENT_SINCE_ALL = """
SELECT d.channel, d.recipient, count(*) AS sent
FROM deliveries d
JOIN unnest($1::text[], $2::text[], $3::timestamptz[]) AS w(channel, recipient, since)
  ON d.channel = w.channel AND d.recipient = w.recipient AND d.updated_at > w.since
WHERE d.status = 'sent'
GROUP BY d.channel, d.recipient
"""
_ACCEPTED = """
SELECT delivery_id, message_id FROM accepted_emails WHERE delivery_id = ANY($1::text[])
"""
_RECORD_ACCEPTED = """
INSERT INTO accepted_emails (delivery_id, message_id) VALUES ($1, $2)
ON CONFLICT (delivery_id) DO NOTHING
"""
_FORGET_ACCEPTED = "DELETE FROM accepted_emails WHERE delivery_id = ANY($1::text[])"
_DUE_HELD = """
SELECT delivery_id FROM deliveries
WHERE status = 'held' AND not_before <= $1 ORDER BY not_before LIMIT $2
FOR UPDATE SKIP LOCKED
"""
_SET_STATUS = """
UPDATE deliveries SET status = $2, attempts = attempts + $3, message_id = COALESCE($4, message_id),
    last_error = $5, not_before = $6, updated_at = COALESCE($7, now())
WHERE delivery_id = $1
"""
_SEARCH = """
SELECT delivery_id, event_id::text AS event_id, event_type, meeting_id, channel, contact_id,
       status, attempts, message_id, last_error, not_before, created_at, updated_at
FROM deliveries
WHERE ($1::text IS NULL OR meeting_id = $1) AND ($2::text IS NULL OR contact_id = $2)
  AND ($3::text IS NULL OR status = $3)
ORDER BY created_at DESC LIMIT $4
"""
_RESEND = """
UPDATE deliveries SET status = 'pending', last_error = NULL, updated_at = now()
WHERE delivery_id = $1 AND status IN ('failed', 'dead')
RETURNING event_id
"""


def delivery_id(event_id: uuid.UUID, channel: str, recipient: str) -> str:
    return str(uuid.uuid5(event_id, f"{channel}:{recipient.lower()}"))


async def record_received(conn: asyncpg.Connection, event_type: str) -> None:
    await conn.execute(_RECORD_RECEIVED, event_type)


async def plan_all(
    conn: asyncpg.Connection,
    events: list[tuple[uuid.UUID, str, str | None, list[dict[str, Any]]]],
) -> None:
    """The planned deliveries of (event id, event type, meeting id, deliveries); a planned one
    is kept as it is, so a repeated event plans nothing new."""
    await conn.executemany(
        _PLAN,
        [
            (
                delivery_id(event_id, d["channel"], d["recipient"]),
                event_id,
                event_type,
                meeting_id,
                d["channel"],
                d["recipient"],
                d["contact_id"],
                json.dumps(d),
            )
            for event_id, event_type, meeting_id, deliveries in events
            for d in deliveries
        ],
    )


def _row(row: asyncpg.Record) -> dict[str, Any]:
    return {**dict(row), "payload": json.loads(row["payload"])}


async def open_for_events(
    conn: asyncpg.Connection, event_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, str]]:
    """(event id, delivery id) of every delivery still to attempt, by delivery id."""
    rows = await conn.fetch(_OPEN_FOR_EVENTS, event_ids)
    return [(row["event_id"], row["delivery_id"]) for row in rows]


async def lock_all(conn: asyncpg.Connection, deliveries: list[str]) -> list[dict[str, Any]]:
    """The deliveries, row-locked until commit, in one order (so lockers never deadlock)."""
    return [_row(row) for row in await conn.fetch(_LOCK_ALL, deliveries)]


async def sent_since_all(
    conn: asyncpg.Connection, windows: list[tuple[str, str, datetime]]
) -> dict[tuple[str, str], int]:
    """For each (channel, recipient, since): how many were sent to the recipient since then."""
    rows = await conn.fetch(
        _SENT_SINCE_ALL,
        [channel for channel, _, _ in windows],
        [recipient for _, recipient, _ in windows],
        [since for _, _, since in windows],
    )
    return {(row["channel"], row["recipient"]): row["sent"] for row in rows}


async def serialize_recipients(conn: asyncpg.Connection, keys: list[str]) -> None:
    """``serialize_recipient`` for many, in sorted order so that lockers never deadlock."""
    await conn.execute(
        "SELECT count(pg_advisory_xact_lock(hashtextextended(key, 0))) "
        "FROM (SELECT DISTINCT unnest($1::text[]) AS key ORDER BY 1) AS sorted_keys",
        keys,
    )


async def set_statuses(conn: asyncpg.Connection, changes: list[StatusChange]) -> None:
    await conn.executemany(
        _SET_STATUS,
        [
            (
                c.delivery,
                c.status,
                1 if c.attempted else 0,
                c.message_id,
                c.error,
                c.not_before,
                c.at,
            )
            for c in changes
        ],
    )


@dataclass(frozen=True)
class StatusChange:
    delivery: str
    status: str
    attempted: bool = False
    message_id: str | None = None
    error: str | None = None
    not_before: datetime | None = None
    at: datetime | None = None


async def accepted_emails(conn: asyncpg.Connection, deliveries: list[str]) -> dict[str, str]:
    """Emails the server accepted whose attempt never committed: delivery id to Message-ID."""
    rows = await conn.fetch(_ACCEPTED, deliveries)
    return {row["delivery_id"]: row["message_id"] for row in rows}


async def record_accepted(conn: asyncpg.Connection, delivery: str, message_id: str) -> None:
    await conn.execute(_RECORD_ACCEPTED, delivery, message_id)


async def forget_accepted(conn: asyncpg.Connection, deliveries: list[str]) -> None:
    await conn.execute(_FORGET_ACCEPTED, deliveries)


async def due_held(conn: asyncpg.Connection, now: datetime, limit: int) -> list[str]:
    return [row["delivery_id"] for row in await conn.fetch(_DUE_HELD, now, limit)]


async def set_status(
    conn: asyncpg.Connection,
    delivery: str,
    status: str,
    *,
    attempted: bool = False,
    message_id: str | None = None,
    error: str | None = None,
    not_before: datetime | None = None,
    at: datetime | None = None,
) -> None:
    await conn.execute(
        _SET_STATUS, delivery, status, 1 if attempted else 0, message_id, error, not_before, at
    )


async def search(
    conn: asyncpg.Connection,
    meeting_id: str | None,
    contact_id: str | None,
    status: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(_SEARCH, meeting_id, contact_id, status, limit)]


async def reopen(conn: asyncpg.Connection, delivery: str) -> uuid.UUID | None:
    value: uuid.UUID | None = await conn.fetchval(_RESEND, delivery)
    return value

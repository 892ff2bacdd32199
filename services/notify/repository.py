"""SQL of the notify service: the deliveries log. Callers own the transaction."""

from __future__ import annotations

import json
import uuid
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
_OPEN_FOR_EVENT = """
SELECT delivery_id, event_id, event_type, meeting_id, channel, recipient, contact_id, status,
       attempts, payload::text AS payload, not_before
FROM deliveries WHERE event_id = $1 AND status IN ('pending', 'retrying')
ORDER BY delivery_id
"""
_LOCK = """
SELECT delivery_id, event_id, event_type, meeting_id, channel, recipient, contact_id, status,
       attempts, payload::text AS payload, not_before
FROM deliveries WHERE delivery_id = $1 FOR UPDATE
"""
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
_SENT_SINCE = """
SELECT count(*) FROM deliveries
WHERE channel = $1 AND recipient = $2 AND status = 'sent' AND updated_at > $3
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


async def plan(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    event_type: str,
    meeting_id: str | None,
    deliveries: list[dict[str, Any]],
) -> None:
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
            for d in deliveries
        ],
    )


def _row(row: asyncpg.Record) -> dict[str, Any]:
    return {**dict(row), "payload": json.loads(row["payload"])}


async def open_for_event(conn: asyncpg.Connection, event_id: uuid.UUID) -> list[dict[str, Any]]:
    return [_row(row) for row in await conn.fetch(_OPEN_FOR_EVENT, event_id)]


async def lock(conn: asyncpg.Connection, delivery: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_LOCK, delivery)
    return _row(row) if row else None


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


async def serialize_recipient(conn: asyncpg.Connection, channel: str, recipient: str) -> None:
    """Until commit, no other delivery to this recipient runs: the rate limit counts exactly."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{channel}:{recipient.lower()}"
    )


async def sent_since(
    conn: asyncpg.Connection, channel: str, recipient: str, since: datetime
) -> int:
    count: int = await conn.fetchval(_SENT_SINCE, channel, recipient, since)
    return count


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

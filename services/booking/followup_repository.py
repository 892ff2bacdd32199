"""SQL for what follows a booking: declines, attendance, feedback. Callers own the transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

_RECORD_DECLINE = """
INSERT INTO declines (meeting_id, sequence, contact_id, response, comment, starts_at, ends_at,
    outcome)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
_DECLINED_ALREADY = """
SELECT EXISTS (SELECT FROM declines WHERE meeting_id = $1 AND sequence = $2 AND contact_id = $3)
"""
_COUNT_DECLINE = (
    "UPDATE meetings SET declines = declines + 1 WHERE meeting_id = $1 RETURNING declines"
)
_DECLINED_SPANS = "SELECT starts_at, ends_at FROM declines WHERE meeting_id = $1"
_NEEDING_ATTENTION = """
SELECT m.meeting_id, m.match_id, m.status, m.sequence, m.starts_at, m.declines,
    m.details::text AS details,
    json_agg(json_build_object(
        'contact_id', d.contact_id, 'response', d.response, 'comment', d.comment,
        'declined_start', d.starts_at, 'outcome', d.outcome, 'declined_at', d.declined_at
    ) ORDER BY d.declined_at)::text AS history
FROM meetings m JOIN declines d USING (meeting_id)
WHERE m.attendance IS NULL AND (m.status = 'cancelled' OR m.starts_at > $1)
GROUP BY m.meeting_id
ORDER BY max(d.declined_at) DESC
LIMIT $2
"""
_MARK_ATTENDANCE = "UPDATE meetings SET attendance = $2 WHERE meeting_id = $1"
_FEEDBACK = "SELECT rating, outcome FROM feedback WHERE meeting_id = $1 AND contact_id = $2"
_SAVE_FEEDBACK = """
INSERT INTO feedback (meeting_id, contact_id, rating, outcome, comment) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (meeting_id, contact_id) DO UPDATE SET
    rating = coalesce(feedback.rating, EXCLUDED.rating),
    outcome = coalesce(EXCLUDED.outcome, feedback.outcome),
    comment = CASE WHEN EXCLUDED.comment = '' THEN feedback.comment ELSE EXCLUDED.comment END,
    updated_at = now()
"""


async def record_decline(
    conn: asyncpg.Connection,
    meeting: dict[str, Any],
    contact_id: str,
    response: str,
    comment: str,
    outcome: str,
) -> None:
    await conn.execute(
        _RECORD_DECLINE,
        meeting["meeting_id"],
        meeting["sequence"],
        contact_id,
        response,
        comment,
        meeting["starts_at"],
        meeting["ends_at"],
        outcome,
    )


async def declined_already(
    conn: asyncpg.Connection, meeting: dict[str, Any], contact_id: str
) -> bool:
    """Whether this attendee already declined this version (SEQUENCE) of the meeting."""
    found: bool = await conn.fetchval(
        _DECLINED_ALREADY, meeting["meeting_id"], meeting["sequence"], contact_id
    )
    return found


async def count_decline(conn: asyncpg.Connection, meeting_id: str) -> int:
    count: int = await conn.fetchval(_COUNT_DECLINE, meeting_id)
    return count


async def declined_spans(
    conn: asyncpg.Connection, meeting_id: str
) -> list[tuple[datetime, datetime]]:
    return [(r["starts_at"], r["ends_at"]) for r in await conn.fetch(_DECLINED_SPANS, meeting_id)]


async def needing_attention(
    conn: asyncpg.Connection, now: datetime, limit: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(_NEEDING_ATTENTION, now, limit)
    return [
        {**dict(row), "details": json.loads(row["details"]), "history": json.loads(row["history"])}
        for row in rows
    ]


async def mark_attendance(conn: asyncpg.Connection, meeting_id: str, status: str) -> None:
    await conn.execute(_MARK_ATTENDANCE, meeting_id, status)


async def feedback(
    conn: asyncpg.Connection, meeting_id: str, contact_id: str
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(_FEEDBACK, meeting_id, contact_id)
    return row


async def save_feedback(
    conn: asyncpg.Connection,
    meeting_id: str,
    contact_id: str,
    rating: int | None,
    outcome: str | None,
    comment: str,
) -> None:
    await conn.execute(_SAVE_FEEDBACK, meeting_id, contact_id, rating, outcome, comment)


# One round trip: the answer is logged unless it repeats the last one to that version, and
# becomes the current one only if logged for the same or a newer version of the meeting.
_RECORD_ANSWER = """
WITH last AS (
    SELECT response FROM answers WHERE meeting_id = $1 AND contact_id = $2 AND sequence = $3
    ORDER BY answer_id DESC LIMIT 1
), logged AS (
    INSERT INTO answers (meeting_id, contact_id, sequence, response, channel, outdated)
    SELECT $1, $2, $3, $4, $5, $6
    WHERE NOT EXISTS (SELECT 1 FROM last WHERE response = $4)
    RETURNING 1
), current AS (
    INSERT INTO responses (meeting_id, contact_id, response, sequence)
    SELECT $1, $2, $4, $3 WHERE NOT $6 AND EXISTS (SELECT 1 FROM logged)
    ON CONFLICT (meeting_id, contact_id) DO UPDATE SET response = EXCLUDED.response,
        sequence = EXCLUDED.sequence, answered_at = now()
    WHERE responses.sequence <= EXCLUDED.sequence
)
SELECT EXISTS (SELECT 1 FROM logged)
"""
_CURRENT_ANSWERS = """
SELECT r.contact_id, r.response, r.sequence, r.answered_at
FROM responses r JOIN meetings m USING (meeting_id)
WHERE r.meeting_id = $1 AND r.sequence = m.sequence
ORDER BY r.contact_id
"""
_ANSWER_HISTORY = """
SELECT contact_id, sequence, response, channel, outdated, answered_at FROM answers
WHERE meeting_id = $1 ORDER BY answer_id
"""


async def record_answer(
    conn: asyncpg.Connection,
    meeting: dict[str, Any],
    contact_id: str,
    sequence: int,
    response: str,
    channel: str,
) -> str:
    """``recorded``, ``repeated`` (the same answer to the same version again: nothing written) or
    ``outdated`` (an answer to an earlier version: logged once, the current answer stays)."""
    outdated = sequence < meeting["sequence"]
    logged = await conn.fetchval(
        _RECORD_ANSWER, meeting["meeting_id"], contact_id, sequence, response, channel, outdated
    )
    if outdated:
        return "outdated"
    return "recorded" if logged else "repeated"


async def current_answers(conn: asyncpg.Connection, meeting_id: str) -> list[dict[str, Any]]:
    """The answers given to the meeting's current version (one from before a move no longer
    counts)."""
    return [dict(row) for row in await conn.fetch(_CURRENT_ANSWERS, meeting_id)]


async def answer_history(conn: asyncpg.Connection, meeting_id: str) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(_ANSWER_HISTORY, meeting_id)]

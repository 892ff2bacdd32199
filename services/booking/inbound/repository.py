"""SQL of booking's inbound mail. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

_CLAIM = """
INSERT INTO inbound_mails (mail_key, outcome) VALUES ($1, 'claimed')
ON CONFLICT (mail_key) DO NOTHING RETURNING mail_key
"""
_OUTCOME_OF = "SELECT outcome FROM inbound_mails WHERE mail_key = $1"
_SETTLE = "UPDATE inbound_mails SET outcome = $2, meeting_id = $3 WHERE mail_key = $1"
_CURSOR = "SELECT uid_validity, last_uid FROM mailbox_cursors WHERE folder = $1"
_ADVANCE = """
INSERT INTO mailbox_cursors (folder, uid_validity, last_uid) VALUES ($1, $2, $3)
ON CONFLICT (folder) DO UPDATE SET uid_validity = EXCLUDED.uid_validity,
    last_uid = CASE WHEN mailbox_cursors.uid_validity = EXCLUDED.uid_validity
        THEN greatest(mailbox_cursors.last_uid, EXCLUDED.last_uid) ELSE EXCLUDED.last_uid END
"""
_PROPOSE = """
INSERT INTO counter_proposals (meeting_id, contact_id, sequence, proposed_start, proposed_end,
    comment)
VALUES ($1, $2, $3, $4, $5, $6)
"""
_PROPOSALS = """
SELECT contact_id, sequence, proposed_start, proposed_end, comment, received_at
FROM counter_proposals WHERE meeting_id = $1 ORDER BY proposal_id
"""
_OUTCOMES = "SELECT outcome, count(*) AS mails FROM inbound_mails GROUP BY outcome"


async def claim(conn: asyncpg.Connection, mail_key: str) -> bool:
    """True for the first to claim the mail; a replica that comes second waits for the first
    to commit and then gets False."""
    return await conn.fetchval(_CLAIM, mail_key) is not None


async def outcome_of(conn: asyncpg.Connection, mail_key: str) -> str | None:
    outcome: str | None = await conn.fetchval(_OUTCOME_OF, mail_key)
    return outcome


async def settle(
    conn: asyncpg.Connection, mail_key: str, outcome: str, meeting_id: str | None
) -> None:
    await conn.execute(_SETTLE, mail_key, outcome, meeting_id)


async def cursor(conn: asyncpg.Connection, folder: str) -> tuple[int, int] | None:
    row = await conn.fetchrow(_CURSOR, folder)
    return (row["uid_validity"], row["last_uid"]) if row else None


async def advance(conn: asyncpg.Connection, folder: str, uid_validity: int, last_uid: int) -> None:
    await conn.execute(_ADVANCE, folder, uid_validity, last_uid)


async def propose(
    conn: asyncpg.Connection,
    meeting_id: str,
    contact_id: str,
    sequence: int,
    start: datetime | None,
    end: datetime | None,
    comment: str,
) -> None:
    await conn.execute(_PROPOSE, meeting_id, contact_id, sequence, start, end, comment)


async def proposals(conn: asyncpg.Connection, meeting_id: str) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(_PROPOSALS, meeting_id)]


async def outcomes(conn: asyncpg.Connection) -> dict[str, int]:
    return {row["outcome"]: row["mails"] for row in await conn.fetch(_OUTCOMES)}

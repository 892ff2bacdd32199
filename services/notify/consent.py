"""SMS consent: recorded when an SMS is first planned, withdrawn by staff or by an inbound STOP.

Consent is given in the contact's profile (matching, ``sms_consent``) and arrives with each
meeting event; notify records the first time it saw it. A withdrawal holds for the number,
whatever contact or meeting it comes with, and stops at once what still waits to be sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

GIVEN_HOW = "Kontaktprofil: Einwilligung von Mitarbeitenden erfasst (sms_consent)"
STOP_WORDS = frozenset({"STOP", "STOPP", "ABMELDEN", "UNSUBSCRIBE", "END", "QUIT", "CANCEL"})

_RECORD_GIVEN = """
INSERT INTO sms_consents (phone, contact_id, given_at, given_how)
SELECT DISTINCT ON (recipient) recipient, contact_id, now(), $2 FROM deliveries
WHERE event_id = ANY($1::uuid[]) AND channel = 'sms'
ON CONFLICT (phone) DO UPDATE SET given_at = COALESCE(sms_consents.given_at, EXCLUDED.given_at),
    given_how = COALESCE(sms_consents.given_how, EXCLUDED.given_how),
    contact_id = COALESCE(sms_consents.contact_id, EXCLUDED.contact_id)
"""
_HOLD_WITHDRAWN = """
UPDATE deliveries d SET status = 'withdrawn', updated_at = now()
WHERE d.event_id = ANY($1::uuid[]) AND d.channel = 'sms' AND d.status = 'pending'
  AND EXISTS (SELECT 1 FROM sms_consents c WHERE c.phone = d.recipient
              AND c.withdrawn_at IS NOT NULL)
"""
_WITHDRAW = """
INSERT INTO sms_consents (phone, withdrawn_at, withdrawn_how) VALUES ($1, $2, $3)
ON CONFLICT (phone) DO UPDATE SET withdrawn_at = EXCLUDED.withdrawn_at,
    withdrawn_how = EXCLUDED.withdrawn_how
"""
_STOP_WAITING = """
UPDATE deliveries SET status = 'withdrawn', not_before = NULL, updated_at = now()
WHERE channel = 'sms' AND recipient = $1 AND status IN ('pending', 'held', 'retrying')
"""
_WITHDRAWN_FOR_DELIVERY = """
SELECT EXISTS (SELECT 1 FROM deliveries d JOIN sms_consents c ON c.phone = d.recipient
               WHERE d.delivery_id = $1 AND d.channel = 'sms' AND c.withdrawn_at IS NOT NULL)
"""
_CONSENT = """
SELECT phone, contact_id, given_at, given_how, withdrawn_at, withdrawn_how
FROM sms_consents WHERE phone = $1
"""


async def apply_to_planned(conn: asyncpg.Connection, event_ids: list[uuid.UUID]) -> None:
    """After planning: record consents first seen, and keep withdrawn numbers from any SMS."""
    await conn.execute(_RECORD_GIVEN, event_ids, GIVEN_HOW)
    await conn.execute(_HOLD_WITHDRAWN, event_ids)


async def withdraw(conn: asyncpg.Connection, phone: str, how: str, at: datetime) -> int:
    """Withdraw consent for a number (E.164); returns how many waiting SMS were stopped."""
    await conn.execute(_WITHDRAW, phone, at, how)
    return int((await conn.execute(_STOP_WAITING, phone)).split()[-1])


async def withdrawn_for(conn: asyncpg.Connection, delivery_id: str) -> bool:
    """Whether a delivery is an SMS to a number whose consent was withdrawn."""
    return bool(await conn.fetchval(_WITHDRAWN_FOR_DELIVERY, delivery_id))


async def consent_of(conn: asyncpg.Connection, phone: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_CONSENT, phone)
    return dict(row) if row else None


def is_stop(text: str) -> bool:
    words = text.strip().upper().split()
    return bool(words) and words[0].strip(".!") in STOP_WORDS

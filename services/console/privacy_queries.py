"""What the read model knows about a person or an organisation, for the Datenschutz pages:
who its contacts are and how much an erasure would touch (counts only)."""

from __future__ import annotations

from typing import Any

import asyncpg

_COMPANY_CONTACTS = """
SELECT DISTINCT a.contact_id, a.contact_name FROM attendees a
JOIN meetings m ON m.meeting_id = a.meeting_id
JOIN needs n ON n.need_id = m.need_id
WHERE n.company_id = $1 AND a.party_kind = 'company'
ORDER BY a.contact_name, a.contact_id
"""
_PROVIDER_CONTACTS = """
SELECT DISTINCT a.contact_id, a.contact_name FROM attendees a
JOIN meetings m ON m.meeting_id = a.meeting_id
JOIN proposals p ON p.match_id = m.match_id
WHERE p.provider_id = $1 AND a.party_kind = 'provider'
ORDER BY a.contact_name, a.contact_id
"""
_COMPANY_COUNTS = """
SELECT (SELECT count(*) FROM needs WHERE company_id = $1) AS needs,
       (SELECT count(*) FROM meetings m JOIN needs n ON n.need_id = m.need_id
        WHERE n.company_id = $1) AS meetings
"""
_PROVIDER_COUNTS = """
SELECT (SELECT count(*) FROM proposals WHERE provider_id = $1) AS proposals,
       (SELECT count(DISTINCT m.meeting_id) FROM meetings m
        JOIN proposals p ON p.match_id = m.match_id WHERE p.provider_id = $1) AS meetings
"""
_CONTACT = """
SELECT a.contact_id, max(a.contact_name) AS contact_name, max(a.party_name) AS party_name,
       max(a.party_kind) AS party_kind, count(*) AS meetings,
       (SELECT count(*) FROM deliveries d WHERE d.contact_id = $1) AS deliveries
FROM attendees a WHERE a.contact_id = $1 GROUP BY a.contact_id
"""


async def contacts_of(conn: asyncpg.Connection, kind: str, party_id: str) -> list[dict[str, Any]]:
    """The organisation's contacts the read model has seen (as meeting attendees)."""
    sql = _PROVIDER_CONTACTS if kind == "anbieter" else _COMPANY_CONTACTS
    return [dict(row) for row in await conn.fetch(sql, party_id)]


async def organisation_counts(conn: asyncpg.Connection, kind: str, party_id: str) -> dict[str, int]:
    sql = _PROVIDER_COUNTS if kind == "anbieter" else _COMPANY_COUNTS
    row = await conn.fetchrow(sql, party_id)
    return {key: int(value) for key, value in dict(row or {}).items()}


async def contact(conn: asyncpg.Connection, contact_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_CONTACT, contact_id)
    return dict(row) if row else None

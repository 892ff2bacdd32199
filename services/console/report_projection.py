"""The report read model's writes: facts per need, meeting, delivery, feedback and proposal.

Upserts like the rest of the read model. Events of different streams arrive in any order, so
whenever a need or a company changes, its dimensions are copied again to every fact of it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from services.console.domain.reports import TiedProposal, firsts_among_tied, size_class
from shared.events.base import Event
from shared.events.booking import (
    AttendanceRecorded,
    AttendanceStatus,
    FeedbackGiven,
    MeetingCancelled,
    MeetingConfirmed,
    MeetingDeclined,
    MeetingDetails,
    MeetingRescheduled,
)
from shared.events.common import PartyKind
from shared.events.matching import (
    CompanyRegistered,
    CompanyUpdated,
    MatchAccepted,
    MatchProposed,
    NeedRegistered,
    NeedUpdated,
)
from shared.events.notify import NotificationDelivered, NotificationFailed

# Copies the dimensions of the needs in ``saved`` (their rows as written by the same query) to
# their facts: one round trip with the write of the needs.
_CASCADE = """
, meetings AS (
    UPDATE report_meetings m SET category = n.category, sector = n.sector,
        district = n.district, size_class = n.size_class
    FROM saved n WHERE m.need_id = n.need_id
), feedback AS (
    UPDATE report_feedback f SET category = n.category, sector = n.sector,
        district = n.district, size_class = n.size_class
    FROM saved n WHERE f.need_id = n.need_id
), proposals AS (
    UPDATE report_proposals p SET category = n.category FROM saved n WHERE p.need_id = n.need_id
)
UPDATE report_deliveries d SET category = n.category, sector = n.sector,
    district = n.district, size_class = n.size_class
FROM report_meetings m JOIN saved n ON n.need_id = m.need_id
WHERE d.meeting_id = m.meeting_id
"""
_SAVED = "RETURNING n.need_id, n.category, n.sector, n.district, n.size_class"
_COMPANY = f"""
WITH company AS (
    INSERT INTO report_companies (company_id, sector, district, size_class)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (company_id) DO UPDATE SET sector = EXCLUDED.sector,
        district = EXCLUDED.district, size_class = EXCLUDED.size_class
), saved AS (
    UPDATE report_needs n SET sector = $2, district = $3, size_class = $4 WHERE n.company_id = $1
    {_SAVED}
){_CASCADE}"""
_NEED = f"""
WITH saved AS (
    INSERT INTO report_needs AS n (need_id, company_id, category, received_at, sector, district,
        size_class)
    SELECT $1, $2, $3, $4, coalesce(c.sector, ''), coalesce(c.district, ''),
        coalesce(c.size_class, 'unknown')
    FROM (SELECT 1) AS one LEFT JOIN report_companies c ON c.company_id = $2
    ON CONFLICT (need_id) DO UPDATE SET company_id = EXCLUDED.company_id,
        category = CASE WHEN EXCLUDED.category = '' THEN n.category ELSE EXCLUDED.category END,
        received_at = CASE WHEN $5 THEN least(n.received_at, EXCLUDED.received_at)
                           ELSE n.received_at END,
        sector = EXCLUDED.sector, district = EXCLUDED.district, size_class = EXCLUDED.size_class
    {_SAVED}
){_CASCADE}"""
_PROPOSED = """
UPDATE report_needs SET proposed_at = least(coalesce(proposed_at, $2), $2) WHERE need_id = $1
"""
_PROPOSALS = """
INSERT INTO report_proposals (proposal_id, run_id, need_id, provider_id, category, rank, tied,
    first_tied, proposed_at)
SELECT p, $2, $1, v, coalesce((SELECT category FROM report_needs WHERE need_id = $1), ''), k, t,
    f, $3
FROM unnest($4::text[], $5::text[], $6::int[], $7::bool[], $8::bool[]) AS x(p, v, k, t, f)
ON CONFLICT (proposal_id) DO NOTHING
"""
_RUN = """
INSERT INTO report_runs (run_id, proposed_at, taxonomy_version, tolerance, weights)
VALUES ($1, $2, $3, $4, $5::text::jsonb) ON CONFLICT (run_id) DO NOTHING
"""
_MATCHED = """
UPDATE report_needs SET matched_at = least(coalesce(matched_at, $2), $2) WHERE need_id = $1
"""
_CHOSEN = "UPDATE report_proposals SET chosen = true WHERE proposal_id = $1"
# The meeting, and its dimensions copied to its deliveries (those that arrived before it).
_MEETING = """
WITH m AS (
    INSERT INTO report_meetings AS m (meeting_id, need_id, provider_id, starts_at, status,
        category, sector, district, size_class)
    SELECT $1, $2, $3, $4, $5, coalesce(n.category, ''), coalesce(n.sector, ''),
        coalesce(n.district, ''), coalesce(n.size_class, 'unknown')
    FROM (SELECT 1) AS one LEFT JOIN report_needs n ON n.need_id = $2
    ON CONFLICT (meeting_id) DO UPDATE SET starts_at = EXCLUDED.starts_at,
        status = EXCLUDED.status
    RETURNING m.meeting_id, m.category, m.sector, m.district, m.size_class
)
UPDATE report_deliveries d SET category = m.category, sector = m.sector, district = m.district,
    size_class = m.size_class
FROM m WHERE d.meeting_id = m.meeting_id
"""
_MEETING_AT = """
UPDATE report_needs SET meeting_at = (SELECT min(starts_at) FROM report_meetings
    WHERE need_id = $1 AND status <> 'cancelled') WHERE need_id = $1
"""
_DECLINED = "UPDATE report_meetings SET declined = true WHERE meeting_id = $1"
_ATTENDANCE = """
UPDATE report_meetings SET attendance = $2 WHERE meeting_id = $1 RETURNING need_id
"""
_MET_AT = """
UPDATE report_needs SET met_at = (SELECT min(starts_at) FROM report_meetings
    WHERE need_id = $1 AND attendance = 'held') WHERE need_id = $1
"""
_FEEDBACK = """
INSERT INTO report_feedback AS f (meeting_id, given_by, need_id, category, sector, district,
    size_class, rating, outcome, given_at)
SELECT $1, $2, m.need_id, coalesce(m.category, ''), coalesce(m.sector, ''),
    coalesce(m.district, ''), coalesce(m.size_class, 'unknown'), $3, $4, $5
FROM (SELECT 1) AS one LEFT JOIN report_meetings m ON m.meeting_id = $1
ON CONFLICT (meeting_id, given_by) DO UPDATE SET rating = EXCLUDED.rating,
    outcome = EXCLUDED.outcome, given_at = EXCLUDED.given_at
RETURNING need_id
"""
_OUTCOME = """
UPDATE report_needs SET outcome_at = least(coalesce(outcome_at, $2), $2), outcome = $3
WHERE need_id = $1
"""
_DELIVERY = """
INSERT INTO report_deliveries AS d (delivery_id, meeting_id, channel, status, at, category,
    sector, district, size_class)
SELECT $1, $2, $3, $4, $5, coalesce(m.category, ''), coalesce(m.sector, ''),
    coalesce(m.district, ''), coalesce(m.size_class, 'unknown')
FROM (SELECT 1) AS one LEFT JOIN report_meetings m ON m.meeting_id = $2
ON CONFLICT (delivery_id) DO UPDATE SET status = EXCLUDED.status, at = EXCLUDED.at
WHERE d.at <= EXCLUDED.at
"""

Projection = Callable[[asyncpg.Connection, Any, datetime], Awaitable[None]]


async def _company(
    conn: asyncpg.Connection, e: CompanyRegistered | CompanyUpdated, at: datetime
) -> None:
    await conn.execute(_COMPANY, e.company_id, e.sector_section or "", e.city, size_class(e.size))


async def _need(
    conn: asyncpg.Connection,
    need_id: str,
    company_id: str,
    categories: tuple[str, ...],
    at: datetime,
    *,
    received: bool,
) -> None:
    category = categories[0] if categories else ""
    await conn.execute(_NEED, need_id, company_id, category, at, received)


async def _need_saved(
    conn: asyncpg.Connection, e: NeedRegistered | NeedUpdated, at: datetime
) -> None:
    await _need(
        conn, e.need_id, e.company_id, e.categories, at, received=isinstance(e, NeedRegistered)
    )


async def _proposed(conn: asyncpg.Connection, e: MatchProposed, at: datetime) -> None:
    await _need(conn, e.need_id, e.company_id, (), at, received=True)
    await conn.execute(_PROPOSED, e.need_id, at)
    weights = e.weights
    if weights is None and e.proposals:
        weights = {c.criterion: c.weight for c in e.proposals[0].breakdown}
    await conn.execute(
        _RUN, e.run_id, at, e.taxonomy_version, e.tolerance, json.dumps(weights or {})
    )
    tied = [
        TiedProposal(p.proposal_id, p.rank, p.tie.band or f"tied:{p.tie.tied_with}")
        for p in e.proposals
        if p.tie is not None
    ]
    firsts = firsts_among_tied(tied)
    await conn.execute(
        _PROPOSALS,
        e.need_id,
        e.run_id,
        at,
        [p.proposal_id for p in e.proposals],
        [p.provider_id for p in e.proposals],
        [p.rank for p in e.proposals],
        [p.tie is not None for p in e.proposals],
        [p.proposal_id in firsts for p in e.proposals],
    )


async def _accepted(conn: asyncpg.Connection, e: MatchAccepted, at: datetime) -> None:
    need = e.need
    await _need(conn, need.need_id, e.company.party_id, need.categories, at, received=True)
    await conn.execute(_MATCHED, need.need_id, at)
    await conn.execute(_CHOSEN, e.proposal_id)


def _provider_of(meeting: MeetingDetails) -> str:
    for attendee in meeting.attendees:
        if attendee.party_kind == PartyKind.PROVIDER:
            return attendee.party_id
    return ""


async def _meeting(conn: asyncpg.Connection, m: MeetingDetails, status: str) -> None:
    await conn.execute(_MEETING, m.meeting_id, m.need_id, _provider_of(m), m.start, status)
    await conn.execute(_MEETING_AT, m.need_id)


async def _confirmed(
    conn: asyncpg.Connection, e: MeetingConfirmed | MeetingRescheduled, at: datetime
) -> None:
    await _meeting(conn, e.meeting, "confirmed")


async def _cancelled(conn: asyncpg.Connection, e: MeetingCancelled, at: datetime) -> None:
    await _meeting(conn, e.meeting, "cancelled")


async def _declined(conn: asyncpg.Connection, e: MeetingDeclined, at: datetime) -> None:
    await conn.execute(_DECLINED, e.meeting.meeting_id)


async def _attendance(conn: asyncpg.Connection, e: AttendanceRecorded, at: datetime) -> None:
    need_id = await conn.fetchval(_ATTENDANCE, e.meeting_id, e.status.value)
    if need_id is not None and e.status == AttendanceStatus.HELD:
        await conn.execute(_MET_AT, need_id)


async def _feedback(conn: asyncpg.Connection, e: FeedbackGiven, at: datetime) -> None:
    outcome = e.outcome.value if e.outcome else None
    need_id = await conn.fetchval(_FEEDBACK, e.meeting_id, e.given_by.value, e.rating, outcome, at)
    if need_id is not None and outcome is not None:
        await conn.execute(_OUTCOME, need_id, at, outcome)


async def _delivered(conn: asyncpg.Connection, e: NotificationDelivered, at: datetime) -> None:
    await conn.execute(
        _DELIVERY, e.delivery_id, e.meeting_id, e.channel.value, "delivered", e.delivered_at
    )


async def _failed(conn: asyncpg.Connection, e: NotificationFailed, at: datetime) -> None:
    status = "failed" if e.permanent else "pending"
    await conn.execute(_DELIVERY, e.delivery_id, e.meeting_id, e.channel.value, status, at)


PROJECTIONS: dict[type[Event], Projection] = {
    CompanyRegistered: _company,
    CompanyUpdated: _company,
    NeedRegistered: _need_saved,
    NeedUpdated: _need_saved,
    MatchProposed: _proposed,
    MatchAccepted: _accepted,
    MeetingConfirmed: _confirmed,
    MeetingRescheduled: _confirmed,
    MeetingCancelled: _cancelled,
    MeetingDeclined: _declined,
    AttendanceRecorded: _attendance,
    FeedbackGiven: _feedback,
    NotificationDelivered: _delivered,
    NotificationFailed: _failed,
}


async def project(conn: asyncpg.Connection, event: Event, at: datetime) -> bool:
    """Record the event's facts; False when the reports have no use for its type."""
    projection = PROJECTIONS.get(type(event))
    if projection is None:
        return False
    await projection(conn, event, at)
    return True

"""The read model's writes: one projection per event type. Callers own the transaction.

Every projection is an upsert, so that an event applied out of order or twice (the inbox
already drops repeats) leaves the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from services.console import audit_trail, report_projection
from shared.events.audit import AuditActionRecorded
from shared.events.base import Envelope, Event
from shared.events.booking import (
    AttendanceRecorded,
    AttendeeResponded,
    MeetingCancelled,
    MeetingConfirmed,
    MeetingDeclined,
    MeetingDetails,
    MeetingRescheduled,
)
from shared.events.deadletter import EventDeadLettered
from shared.events.matching import (
    CompanyRegistered,
    CompanyUpdated,
    MatchAccepted,
    MatchDeclined,
    MatchProposed,
    MatchRequested,
    NeedRegistered,
    NeedUpdated,
    ProviderRegistered,
    ProviderUpdated,
)
from shared.events.notify import NotificationDelivered, NotificationFailed

_COMPANY = """
INSERT INTO companies (company_id, name, sector_code, postcode, city, size, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (company_id) DO UPDATE SET name = EXCLUDED.name, sector_code = EXCLUDED.sector_code,
    postcode = EXCLUDED.postcode, city = EXCLUDED.city,
    size = coalesce(EXCLUDED.size, companies.size), updated_at = EXCLUDED.updated_at
"""
_PROVIDER = """
INSERT INTO providers (provider_id, name, kind, categories, postcode, city, capacity, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (provider_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
    categories = EXCLUDED.categories, postcode = EXCLUDED.postcode, city = EXCLUDED.city,
    capacity = coalesce(EXCLUDED.capacity, providers.capacity), updated_at = EXCLUDED.updated_at
"""
_NEED = """
INSERT INTO needs (need_id, company_id, title, description, categories, service_type, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (need_id) DO UPDATE SET company_id = EXCLUDED.company_id, title = EXCLUDED.title,
    description = EXCLUDED.description, categories = EXCLUDED.categories,
    service_type = EXCLUDED.service_type, updated_at = EXCLUDED.updated_at
"""
_RUN = """
INSERT INTO runs (run_id, need_ids, requested_by, batch, requested_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (run_id) DO NOTHING
"""
# A proposal's need (a placeholder if its registration has not arrived yet), its proposals and
# its providers' "shown" counts: one round trip.
_PROPOSED = """
WITH need AS (
    INSERT INTO needs AS n (need_id, company_id, status, last_run_id, no_slot, no_proposal,
        updated_at)
    VALUES ($1, $2, 'proposed', $3, false, $4, $5)
    ON CONFLICT (need_id) DO UPDATE SET
        status = CASE WHEN n.status IN ('open', 'proposed') THEN 'proposed' ELSE n.status END,
        last_run_id = EXCLUDED.last_run_id, no_slot = false,
        no_proposal = EXCLUDED.no_proposal, updated_at = EXCLUDED.updated_at
), proposals AS (
    INSERT INTO proposals (proposal_id, run_id, need_id, provider_id, rank, score, breakdown,
                           proposed_at)
    SELECT p, $3, $1, v, k, s, b::jsonb, $5
    FROM unnest($6::text[], $7::text[], $8::int[], $9::float8[], $10::text[])
        AS x(p, v, k, s, b)
    ON CONFLICT (proposal_id) DO NOTHING
)
UPDATE providers SET shown = shown + 1 WHERE provider_id = ANY($7::text[])
"""
_PROPOSAL_DECIDED = """
UPDATE proposals SET status = $2, decided_by = $3, reason = $4, match_id = $5, decided_at = $6
WHERE proposal_id = $1
"""
_NEED_STATUS = "UPDATE needs SET status = $2, updated_at = $3 WHERE need_id = $1"
_CHOSEN = "UPDATE providers SET chosen = chosen + 1 WHERE provider_id = $1"
_MEETING = """
INSERT INTO meetings (meeting_id, match_id, need_id, title, starts_at, ends_at, status, venue_id,
    venue_name, room_name, address, video_url, company_name, provider_name, sequence, reason,
    updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (meeting_id) DO UPDATE SET starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
    status = EXCLUDED.status, venue_id = EXCLUDED.venue_id, venue_name = EXCLUDED.venue_name,
    room_name = EXCLUDED.room_name, address = EXCLUDED.address, video_url = EXCLUDED.video_url,
    sequence = EXCLUDED.sequence, reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at
WHERE meetings.sequence <= EXCLUDED.sequence
"""
_ATTENDEE = """
INSERT INTO attendees (meeting_id, contact_id, party_kind, party_name, contact_name, email, phone)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (meeting_id, contact_id) DO UPDATE SET party_name = EXCLUDED.party_name,
    contact_name = EXCLUDED.contact_name, email = EXCLUDED.email, phone = EXCLUDED.phone
"""
_RSVP_RESET = "UPDATE attendees SET rsvp = 'needs_action', comment = '' WHERE meeting_id = $1"
_RSVP = "UPDATE attendees SET rsvp = $3, comment = $4 WHERE meeting_id = $1 AND contact_id = $2"
_DECLINES = """
UPDATE meetings SET declines = greatest(declines, $2), updated_at = $3 WHERE meeting_id = $1
"""
_NEED_DECLINES = """
UPDATE needs SET declines = declines + 1,
    status = CASE WHEN $2 THEN 'open' ELSE status END, updated_at = $3
WHERE need_id = $1
"""
_ATTENDANCE = """
UPDATE meetings SET attendance = $2, no_show_party = $3, updated_at = $4 WHERE meeting_id = $1
"""
_DELIVERY = """
INSERT INTO deliveries (delivery_id, meeting_id, contact_id, channel, status, source_event_type,
    attempts, reason, permanent, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (delivery_id) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts,
    reason = EXCLUDED.reason, permanent = EXCLUDED.permanent, at = EXCLUDED.at
WHERE deliveries.at <= EXCLUDED.at
"""
_DEAD_LETTER = """
INSERT INTO dead_letters (event_id, service, consumer, original_subject, original_msg_id,
    original_headers, original_body, reason, error_type, deliveries, dead_lettered_at)
VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, $9, $10, $11)
ON CONFLICT (event_id) DO UPDATE SET reason = EXCLUDED.reason, deliveries = EXCLUDED.deliveries,
    dead_lettered_at = EXCLUDED.dead_lettered_at, state = 'open', settled_at = NULL
"""
_PROGRESS = """
INSERT INTO projection_state (consumer, last_event_at, applied_at) VALUES ($1, $2, now())
ON CONFLICT (consumer) DO UPDATE SET applied_at = now(),
    last_event_at = greatest(projection_state.last_event_at, EXCLUDED.last_event_at)
"""
_SETTLE_DEAD_LETTER = """
UPDATE dead_letters SET state = $2, settled_at = now() WHERE event_id = $1 AND state = 'open'
RETURNING event_id
"""

Projection = Callable[[asyncpg.Connection, Any, datetime], Awaitable[None]]


async def record_progress(conn: asyncpg.Connection, consumer: str, event_time: datetime) -> None:
    await conn.execute(_PROGRESS, consumer, event_time)


async def settle_dead_letter(conn: asyncpg.Connection, event_id: Any, state: str) -> bool:
    return await conn.fetchval(_SETTLE_DEAD_LETTER, event_id, state) is not None


async def _company(
    conn: asyncpg.Connection, e: CompanyRegistered | CompanyUpdated, at: datetime
) -> None:
    await conn.execute(
        _COMPANY, e.company_id, e.name, e.sector_code, e.postcode, e.city, e.size, at
    )


async def _provider(
    conn: asyncpg.Connection, e: ProviderRegistered | ProviderUpdated, at: datetime
) -> None:
    await conn.execute(
        _PROVIDER,
        e.provider_id,
        e.name,
        e.kind,
        list(e.categories),
        e.postcode,
        e.city,
        e.capacity,
        at,
    )


async def _need(conn: asyncpg.Connection, e: NeedRegistered | NeedUpdated, at: datetime) -> None:
    await conn.execute(
        _NEED,
        e.need_id,
        e.company_id,
        e.title,
        e.description,
        list(e.categories),
        e.service_type.value,
        at,
    )


async def _requested(conn: asyncpg.Connection, e: MatchRequested, at: datetime) -> None:
    await conn.execute(_RUN, e.run_id, list(e.need_ids), e.requested_by, e.batch, at)


async def _proposed(conn: asyncpg.Connection, e: MatchProposed, at: datetime) -> None:
    proposals = e.proposals
    await conn.execute(
        _PROPOSED,
        e.need_id,
        e.company_id,
        e.run_id,
        not proposals,
        at,
        [p.proposal_id for p in proposals],
        [p.provider_id for p in proposals],
        [p.rank for p in proposals],
        [p.score for p in proposals],
        [json.dumps([c.model_dump(mode="json") for c in p.breakdown]) for p in proposals],
    )


async def _accepted(conn: asyncpg.Connection, e: MatchAccepted, at: datetime) -> None:
    need = e.need
    await conn.execute(
        _NEED,
        need.need_id,
        e.company.party_id,
        need.title,
        need.description,
        list(need.categories),
        need.service_type.value,
        at,
    )
    await conn.execute(
        _PROPOSAL_DECIDED, e.proposal_id, "accepted", e.accepted_by, "", e.match_id, at
    )
    await conn.execute(_NEED_STATUS, need.need_id, "accepted", at)
    await conn.execute(_CHOSEN, e.provider.party_id)


async def _declined(conn: asyncpg.Connection, e: MatchDeclined, at: datetime) -> None:
    await conn.execute(
        _PROPOSAL_DECIDED, e.proposal_id, "declined", e.declined_by, e.reason, e.match_id, at
    )


async def _meeting(
    conn: asyncpg.Connection,
    m: MeetingDetails,
    status: str,
    sequence: int,
    reason: str,
    at: datetime,
) -> None:
    names = {a.party_kind.value: a.party_name for a in m.attendees}
    place = m.place
    await conn.execute(
        _MEETING,
        m.meeting_id,
        m.match_id,
        m.need_id,
        m.title,
        m.start,
        m.end,
        status,
        place.venue_id,
        place.name,
        place.room_name,
        place.address,
        place.video_url,
        names.get("company", ""),
        names.get("provider", ""),
        sequence,
        reason,
        at,
    )
    await conn.executemany(  # pipelined: one round trip for all of them
        _ATTENDEE,
        [
            (
                m.meeting_id,
                a.contact.contact_id,
                a.party_kind.value,
                a.party_name,
                a.contact.name,
                a.contact.email,
                a.contact.phone,
            )
            for a in m.attendees
        ],
    )


async def _confirmed(conn: asyncpg.Connection, e: MeetingConfirmed, at: datetime) -> None:
    await _meeting(conn, e.meeting, "confirmed", e.calendar.sequence, "", at)
    await conn.execute(_NEED_STATUS, e.meeting.need_id, "booked", at)


async def _rescheduled(conn: asyncpg.Connection, e: MeetingRescheduled, at: datetime) -> None:
    await _meeting(conn, e.meeting, "confirmed", e.calendar.sequence, e.reason, at)
    await conn.execute(_RSVP_RESET, e.meeting.meeting_id)


async def _cancelled(conn: asyncpg.Connection, e: MeetingCancelled, at: datetime) -> None:
    await _meeting(conn, e.meeting, "cancelled", e.calendar.sequence, e.reason, at)


async def _responded(conn: asyncpg.Connection, e: AttendeeResponded, at: datetime) -> None:
    await conn.execute(_RSVP, e.meeting_id, e.contact_id, e.response.value, e.comment)


async def _meeting_declined(conn: asyncpg.Connection, e: MeetingDeclined, at: datetime) -> None:
    await conn.execute(_DECLINES, e.meeting.meeting_id, e.declines, at)
    await conn.execute(_NEED_DECLINES, e.meeting.need_id, e.match_reopened, at)


async def _attendance(conn: asyncpg.Connection, e: AttendanceRecorded, at: datetime) -> None:
    party = e.no_show_party.value if e.no_show_party else None
    await conn.execute(_ATTENDANCE, e.meeting_id, e.status.value, party, at)


async def _delivered(conn: asyncpg.Connection, e: NotificationDelivered, at: datetime) -> None:
    await conn.execute(
        _DELIVERY,
        e.delivery_id,
        e.meeting_id,
        e.contact_id,
        e.channel.value,
        "delivered",
        e.source_event_type,
        e.attempts,
        "",
        False,
        e.delivered_at,
    )


async def _failed(conn: asyncpg.Connection, e: NotificationFailed, at: datetime) -> None:
    status = "failed" if e.permanent else "pending"
    await conn.execute(
        _DELIVERY,
        e.delivery_id,
        e.meeting_id,
        e.contact_id,
        e.channel.value,
        status,
        e.source_event_type,
        e.attempts,
        e.reason,
        e.permanent,
        at,
    )


PROJECTIONS: dict[type[Event], Projection] = {
    CompanyRegistered: _company,
    CompanyUpdated: _company,
    ProviderRegistered: _provider,
    ProviderUpdated: _provider,
    NeedRegistered: _need,
    NeedUpdated: _need,
    MatchRequested: _requested,
    MatchProposed: _proposed,
    MatchAccepted: _accepted,
    MatchDeclined: _declined,
    MeetingConfirmed: _confirmed,
    MeetingRescheduled: _rescheduled,
    MeetingCancelled: _cancelled,
    AttendeeResponded: _responded,
    MeetingDeclined: _meeting_declined,
    AttendanceRecorded: _attendance,
    NotificationDelivered: _delivered,
    NotificationFailed: _failed,
    AuditActionRecorded: audit_trail.project,
}


async def apply(conn: asyncpg.Connection, envelope: Envelope[Any]) -> bool:
    """Project one event; False when the read model has no use for its type."""
    event = envelope.data
    if isinstance(event, EventDeadLettered):
        await conn.execute(
            _DEAD_LETTER,
            envelope.id,
            event.service,
            event.consumer,
            event.original_subject,
            event.original_msg_id,
            json.dumps(event.original_headers),
            event.original_body,
            event.reason,
            event.error_type,
            event.deliveries,
            event.dead_lettered_at,
        )
        return True
    projection = PROJECTIONS.get(type(event))
    if projection is not None:
        await projection(conn, event, envelope.time)
    reported = await report_projection.project(conn, event, envelope.time)
    return projection is not None or reported

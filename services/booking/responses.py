"""Attendee answers behind the RSVP links, and what a decline sets in motion.

A decline (or a request for another time) of an upcoming meeting tells staff (MeetingDeclined)
and then, in the same transaction, either offers the next slot (the next held option, else the
earliest free slot that no attendee has declined yet; a MeetingRescheduled with SEQUENCE+1) or,
after ``max_declines`` declines or when no slot is left, cancels the meeting and marks the match
reopened, so that matching can find someone else for the need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.booking import changes, followup_repository, repository
from services.booking.domain import rsvp
from services.booking.domain.calendar import Room, find_slots
from services.booking.places import wishes_of
from services.booking.service import SOURCE, NotFoundError, meeting_type
from services.booking.settings import BookingSettings
from shared.contacts import zone_or_berlin
from shared.events.base import wrap
from shared.events.booking import (
    Attendee,
    AttendeeResponded,
    AttendeeResponse,
    MeetingDeclined,
    MeetingDetails,
)
from shared.messaging import enqueue

REOPEN_REASON = "declined by an attendee; the need goes back to matching"


@dataclass(frozen=True)
class NextSlot:
    start: datetime
    room: Room | None
    option: int = 0  # a held option to use, or 0 for a freshly allocated slot


@dataclass(frozen=True)
class RsvpPage:
    """What the attendee behind a link sees before answering."""

    details: MeetingDetails
    attendee: Attendee
    status: str
    outdated: bool  # a link from an earlier version of the invitation
    sequence: int  # the current version


async def rsvp_page(conn: asyncpg.Connection, claim: rsvp.RsvpClaim) -> RsvpPage:
    row = await repository.meeting(conn, claim.meeting_id)
    if row is None:
        raise NotFoundError("unknown meeting")
    details = MeetingDetails.model_validate(row["details"])
    outdated = claim.sequence is not None and claim.sequence < row["sequence"]
    attendee = changes.attendee_of(details, claim.contact_id)
    return RsvpPage(details, attendee, row["status"], outdated, row["sequence"])


def page_values(page: RsvpPage) -> dict[str, Any]:
    """The page's texts, in the attendee's time zone."""
    contact = page.attendee.contact
    zone = zone_or_berlin(contact.timezone)
    start, end = page.details.start.astimezone(zone), page.details.end.astimezone(zone)
    place = page.details.place
    where = (
        place.video_url
        if place.kind == "virtual" and place.video_url
        else ", ".join(part for part in (place.name, place.room_name, place.address) if part)
    )
    return {
        "name": contact.name,
        "title": page.details.title,
        "date": start.strftime("%d.%m.%Y" if contact.locale.value == "de" else "%d %b %Y"),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "place": where,
        "cancelled": page.status == "cancelled",
        "outdated": page.outdated,
    }


class CancelledMeetingError(Exception):
    """A cancelled meeting takes no answers."""


@dataclass(frozen=True)
class Answered:
    outcome: str  # recorded, repeated or outdated (see followup_repository.record_answer)
    declined: MeetingDeclined | None = None


async def respond(
    conn: asyncpg.Connection,
    claim: rsvp.RsvpClaim,
    answer: AttendeeResponse,
    comment: str,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
    *,
    channel: str = "link",
    locked: dict[str, Any] | None = None,
) -> Answered:
    """Record the answer to the version of the meeting it was given for. Only an answer to the
    current version counts, and a decline of the current version of an upcoming meeting is
    handled at once; the same answer given twice is recorded once.

    ``locked`` is the meeting's row if the caller read it FOR UPDATE already."""
    row = locked or await repository.meeting(conn, claim.meeting_id, for_update=True)
    if row is None:
        raise NotFoundError("unknown meeting")
    if row["status"] == "cancelled":
        raise CancelledMeetingError("the meeting was cancelled")
    details = MeetingDetails.model_validate(row["details"])
    attendee = changes.attendee_of(details, claim.contact_id)
    sequence = row["sequence"] if claim.sequence is None else claim.sequence
    outcome = await followup_repository.record_answer(
        conn, row, claim.contact_id, sequence, answer.value, channel
    )
    if outcome != "recorded":
        return Answered(outcome)
    event = AttendeeResponded(
        meeting_id=claim.meeting_id,
        match_id=details.match_id,
        contact_id=claim.contact_id,
        party_kind=attendee.party_kind,
        response=answer,
        comment=comment,
        sequence=sequence,
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"match:{details.match_id}"))
    if answer in (AttendeeResponse.ACCEPTED, AttendeeResponse.TENTATIVE) or not _upcoming(row, now):
        return Answered(outcome)
    declined = await decline(conn, row, attendee, answer, comment, settings, secret, now)
    return Answered(outcome, declined)


def _upcoming(row: dict[str, Any], now: datetime) -> bool:
    live = row["status"] == "confirmed" and row["attendance"] is None
    return bool(live and row["starts_at"] > now)


async def decline(
    conn: asyncpg.Connection,
    row: dict[str, Any],
    attendee: Attendee,
    answer: AttendeeResponse,
    comment: str,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
) -> MeetingDeclined | None:
    """Tell staff, then offer the next slot or cancel and reopen; once per attendee and version."""
    contact_id = attendee.contact.contact_id
    if await followup_repository.declined_already(conn, row, contact_id):
        return None
    declines = await followup_repository.count_decline(conn, row["meeting_id"])
    details = MeetingDetails.model_validate(row["details"])
    await repository.release_option(conn, details.meeting_id, 0)
    upcoming = None
    if declines < settings.max_declines:
        upcoming = await next_slot(conn, row, details, settings, now)
    event = MeetingDeclined(
        meeting=details,
        contact_id=contact_id,
        party_kind=attendee.party_kind,
        response=answer,
        comment=comment,
        declines=declines,
        next_start=upcoming.start if upcoming else None,
        match_reopened=upcoming is None,
    )
    outcome = "rescheduled" if upcoming else "cancelled"
    await followup_repository.record_decline(conn, row, contact_id, answer.value, comment, outcome)
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"match:{details.match_id}"))
    if upcoming is None:
        await changes.cancel(conn, details.meeting_id, now, REOPEN_REASON)
    else:
        await _offer(conn, row, upcoming, settings, secret, now, answer)
    return event


async def next_slot(
    conn: asyncpg.Connection,
    row: dict[str, Any],
    details: MeetingDetails,
    settings: BookingSettings,
    now: datetime,
) -> NextSlot | None:
    """The next held option still ahead, else the earliest free slot nobody declined."""
    notice = now + timedelta(hours=settings.minimum_notice_hours)
    kind = meeting_type(settings)
    for held in await repository.held_options(conn, details.meeting_id):
        # Held at booking; the provider's calendar may have filled that time since.
        if held["starts_at"] >= notice and not await changes.provider_busy(
            conn, details, held["starts_at"], kind
        ):
            room = Room(held["room_id"], held["room_name"]) if held["room_id"] else None
            return NextSlot(held["starts_at"], room, held["option"])
    await repository.drop_held_options(conn, details.meeting_id)
    venue = await changes.venue_of(conn, details)
    people = changes.people_of(details)
    rooms = [f"room:{room.room_id}" for room in venue.rooms]
    busy = await repository.busy(conn, people + rooms, now, now + kind.horizon + timedelta(days=1))
    avoid = [*await followup_repository.declined_spans(conn, details.meeting_id)]
    avoid.append((row["starts_at"], row["ends_at"]))
    wishes = await wishes_of(conn, *changes.party_ids(details))
    slots = find_slots(
        venue,
        kind,
        now,
        busy,
        people,
        provider=wishes.provider,
        company=wishes.company,
        avoid=avoid,
    )
    return NextSlot(*slots[0]) if slots else None


async def _offer(
    conn: asyncpg.Connection,
    row: dict[str, Any],
    upcoming: NextSlot,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
    answer: AttendeeResponse,
) -> None:
    details = MeetingDetails.model_validate(row["details"])
    if upcoming.option:
        await repository.promote_option(conn, details.meeting_id, upcoming.option)
    else:
        kind = meeting_type(settings)
        await changes.reallocate(conn, details, upcoming.start, upcoming.room, kind)
    reason = (
        "another time was requested"
        if answer is AttendeeResponse.NEW_TIME_REQUESTED
        else "an attendee declined"
    )
    await changes.announce_move(
        conn, row, upcoming.start, upcoming.room, settings, secret, now, reason
    )

"""Changes to a booked meeting: staff reschedule and cancel, and moves after a decline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.booking import repository
from services.booking.calendars import repository as calendars
from services.booking.domain.calendar import MeetingType, Room, Venue, padded
from services.booking.invitations import build_calendar, with_rsvp_links
from services.booking.places import DEFAULT_VENUE, usable_venues, wishes_of
from services.booking.service import (
    SOURCE,
    NotFoundError,
    SlotError,
    meeting_type,
    room_ref,
    schedule_reminders,
)
from services.booking.settings import BookingSettings
from shared.events.base import wrap
from shared.events.booking import (
    Attendee,
    CalendarMethod,
    MeetingCancelled,
    MeetingDetails,
    MeetingRescheduled,
)
from shared.messaging import enqueue


async def live_meeting(
    conn: asyncpg.Connection, meeting_id: str, *, lock: bool = True
) -> dict[str, Any]:
    row = await repository.meeting(conn, meeting_id, for_update=lock)
    if row is None or row["status"] == "cancelled":
        raise NotFoundError(f"no live meeting {meeting_id}")
    return row


async def venue_of(conn: asyncpg.Connection, details: MeetingDetails) -> Venue:
    venues = usable_venues(await repository.venues(conn)) or usable_venues([DEFAULT_VENUE])
    return next((v for v in venues if v.venue_id == details.place.venue_id), venues[0])


def attendee_of(details: MeetingDetails, contact_id: str) -> Attendee:
    """The attendee a signed link was issued to."""
    attendee = next((a for a in details.attendees if a.contact.contact_id == contact_id), None)
    if attendee is None:
        raise NotFoundError("unknown attendee")
    return attendee


def party_ids(details: MeetingDetails) -> tuple[str, str]:
    """The provider's and the company's party ids."""
    kinds = {a.party_kind.value: a.party_id for a in details.attendees}
    return kinds.get("provider", ""), kinds.get("company", "")


def people_of(details: MeetingDetails) -> list[str]:
    provider, company = party_ids(details)
    return [f"provider:{provider}", f"company:{company}"]


async def why_not_bookable(
    conn: asyncpg.Connection,
    details: MeetingDetails,
    start: datetime,
    kind: MeetingType,
    now: datetime,
) -> str | None:
    """Why staff may not move the meeting to [start, end): past, venue closed, provider away or
    busy in their own calendar (buffers included, as the slot search counts them)."""
    end = start + kind.duration
    if start <= now:
        return f"{start.isoformat()} is in the past"
    venue = await venue_of(conn, details)
    if why := venue.why_closed(start, end):
        return why
    wishes = await wishes_of(conn, *party_ids(details))
    if wishes.provider and (why := wishes.provider.why_not(start, end)):
        return f"the provider is not available: {why}"
    if await provider_busy(conn, details, start, kind):
        return "the provider is busy then in their own calendar"
    return None


async def provider_busy(
    conn: asyncpg.Connection, details: MeetingDetails, start: datetime, kind: MeetingType
) -> bool:
    """Whether the provider's fetched calendar is busy around a meeting at ``start``."""
    before, after = padded(start, kind)
    return await calendars.busy_during(conn, party_ids(details)[0], before, after)


async def reschedule(
    conn: asyncpg.Connection,
    meeting_id: str,
    new_start: datetime,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
    reason: str = "",
    actor: str | None = None,
) -> MeetingDetails:
    """Staff move the meeting (same room); the held alternatives are dropped."""
    row = await live_meeting(conn, meeting_id)
    details = MeetingDetails.model_validate(row["details"])
    kind = meeting_type(settings)
    if why := await why_not_bookable(conn, details, new_start, kind, now):
        raise SlotError(why)
    await repository.drop_held_options(conn, meeting_id)
    room = (
        Room(details.place.room_id, details.place.room_name or "")
        if details.place.room_id
        else None
    )
    await reallocate(conn, details, new_start, room, kind)
    return await announce_move(
        conn, row, new_start, room, settings, secret, now, reason, actor=actor
    )


async def reallocate(
    conn: asyncpg.Connection,
    details: MeetingDetails,
    start: datetime,
    room: Room | None,
    kind: MeetingType,
) -> None:
    """Release the booked slot and allocate [start, start + duration) in its place."""
    resources = people_of(details) + ([f"room:{room.room_id}"] if room else [])
    await repository.release_option(conn, details.meeting_id, 0)
    try:
        async with conn.transaction():
            keys = await repository.resource_keys(conn, resources)
            await repository.lock_resources(conn, list(keys.values()))
            await repository.allocate(
                conn, details.meeting_id, list(keys.values()), *padded(start, kind)
            )
    except asyncpg.ExclusionViolationError as exc:
        raise SlotError(f"{start.isoformat()} is already taken") from exc


async def announce_move(
    conn: asyncpg.Connection,
    row: dict[str, Any],
    new_start: datetime,
    room: Room | None,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
    reason: str,
    *,
    actor: str | None = None,
) -> MeetingDetails:
    """Record the new time (and room) and publish the update: same UID, SEQUENCE+1, REQUEST.

    The attendees get new RSVP links for the new version.
    """
    previous = MeetingDetails.model_validate(row["details"])
    room_id, room_name = room_ref(room)
    details = previous.model_copy(
        update={
            "start": new_start.astimezone(UTC),
            "end": (new_start + meeting_type(settings).duration).astimezone(UTC),
            "place": previous.place.model_copy(update={"room_id": room_id, "room_name": room_name}),
        }
    )
    sequence = row["sequence"] + 1
    details = with_rsvp_links(details, settings, secret, sequence)
    await repository.update_meeting(
        conn,
        details.meeting_id,
        sequence,
        "confirmed",
        details.start,
        details.end,
        details.model_dump(mode="json"),
    )
    await schedule_reminders(conn, details, settings, new=False)
    calendar = build_calendar(details, row["uid"], sequence, CalendarMethod.REQUEST, now)
    event = MeetingRescheduled(
        meeting=details,
        previous_start=previous.start,
        previous_end=previous.end,
        calendar=calendar,
        reason=reason,
        rescheduled_by=actor,
    )
    envelope = wrap(event, source=SOURCE, correlation_id=f"match:{details.match_id}")
    await enqueue(conn, envelope, actor=actor)
    return details


async def cancel(
    conn: asyncpg.Connection,
    meeting_id: str,
    now: datetime,
    reason: str = "",
    actor: str | None = None,
) -> MeetingDetails:
    row = await live_meeting(conn, meeting_id)
    details = MeetingDetails.model_validate(row["details"])
    sequence = row["sequence"] + 1
    await repository.release(conn, meeting_id)
    await repository.drop_held_options(conn, meeting_id)
    await repository.drop_pending_reminders(conn, meeting_id)
    await repository.update_meeting(
        conn, meeting_id, sequence, "cancelled", details.start, details.end, row["details"]
    )
    calendar = build_calendar(details, row["uid"], sequence, CalendarMethod.CANCEL, now)
    event = MeetingCancelled(meeting=details, calendar=calendar, reason=reason, cancelled_by=actor)
    envelope = wrap(event, source=SOURCE, correlation_id=f"match:{details.match_id}")
    await enqueue(conn, envelope, actor=actor)
    return details

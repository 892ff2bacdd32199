"""Use cases of the booking service, each inside the caller's unit of work."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg
from prometheus_client import Counter

from services.booking import repository
from services.booking.domain import rsvp
from services.booking.domain.calendar import MeetingType, Room, Venue, find_slots
from services.booking.domain.invites import InviteSpec, Person, build_ics
from services.booking.settings import BookingSettings
from shared.events.base import Envelope, wrap
from shared.events.booking import (
    Attendee,
    AttendeeResponded,
    AttendeeResponse,
    Calendar,
    CalendarMethod,
    Invitation,
    MeetingCancelled,
    MeetingConfirmed,
    MeetingDetails,
    MeetingRescheduled,
    Organizer,
    Place,
    ReminderDue,
)
from shared.events.common import Party
from shared.events.matching import MatchAccepted
from shared.messaging import PermanentError, enqueue

SOURCE = "booking"
DEFAULT_VENUE = {
    "venue_id": "werkbank",
    "name": "Digitale Werkbank",
    "address": "Königswall 21, 44137 Dortmund",
    "kind": "in_person",
    "rooms": [
        {"room_id": "werkbank-1", "name": "Werkraum 1"},
        {"room_id": "werkbank-2", "name": "Werkraum 2"},
    ],
}


class NotFoundError(LookupError):
    pass


class SlotError(ValueError):
    """The requested time cannot be booked; the message says why."""


MEETINGS = Counter(
    "werkbank_booking_meetings_total", "Meetings confirmed, rescheduled or cancelled", ["change"]
)


def venue_from_doc(doc: dict[str, Any]) -> Venue:
    opening = {
        int(day): (time.fromisoformat(hours[0]), time.fromisoformat(hours[1]))
        for day, hours in doc.get("opening", {}).items()
    }
    venue = Venue(
        venue_id=doc["venue_id"],
        name=doc["name"],
        address=doc.get("address", ""),
        kind=doc.get("kind", "in_person"),
        video_url=doc.get("video_url"),
        state=doc.get("state", "NW"),
        rooms=tuple(
            Room(r["room_id"], r["name"], r.get("capacity", 6)) for r in doc.get("rooms", [])
        ),
    )
    return replace(venue, opening=opening) if opening else venue


def meeting_type(settings: BookingSettings) -> MeetingType:
    return MeetingType(
        duration=timedelta(minutes=settings.meeting_minutes),
        buffer_before=timedelta(minutes=settings.buffer_minutes),
        buffer_after=timedelta(minutes=settings.buffer_minutes),
        minimum_notice=timedelta(hours=settings.minimum_notice_hours),
        horizon=timedelta(days=settings.horizon_days),
    )


def _attendees(company: Party, provider: Party) -> list[tuple[Party, Any]]:
    return [(party, contact) for party in (company, provider) for contact in party.contacts]


def build_calendar(
    details: MeetingDetails, uid: str, sequence: int, method: CalendarMethod, now: datetime
) -> Calendar:
    place = details.place
    location = (
        place.video_url
        if place.kind == "virtual" and place.video_url
        else (
            f"{place.name}, {place.room_name + ', ' if place.room_name else ''}"
            f"{place.address or ''}"
        ).strip(", ")
    )
    spec = InviteSpec(
        uid=uid,
        sequence=sequence,
        method=method.value,
        title=details.title,
        start=details.start,
        end=details.end,
        location=location or place.name,
        organizer=Person(details.organizer.name, str(details.organizer.email)),
        attendees=tuple(
            Person(a.contact.name, str(a.contact.email))
            for a in details.attendees
            if a.contact.email
        ),
        stamp=now,
        video_url=place.video_url,
    )
    invitations = tuple(
        Invitation(
            contact_id=a.contact.contact_id,
            ics=build_ics(spec, locale=a.contact.locale.value, rsvp_url=a.rsvp_url or ""),
        )
        for a in details.attendees
        if a.contact.email
    )
    return Calendar(uid=uid, sequence=sequence, method=method, invitations=invitations)


async def book_match(
    conn: asyncpg.Connection,
    envelope: Envelope[MatchAccepted],
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
) -> MeetingDetails | None:
    match = envelope.data
    if await repository.meeting_for_match(conn, match.match_id):
        return None
    venue_docs = await repository.venues(conn) or [DEFAULT_VENUE]
    venue = venue_from_doc(venue_docs[0])
    kind = meeting_type(settings)
    people = [f"provider:{match.provider.party_id}", f"company:{match.company.party_id}"]
    rooms = [f"room:{room.room_id}" for room in venue.rooms]
    since = now
    until = now + kind.horizon + timedelta(days=1)
    for _ in range(20):
        busy = await repository.busy(conn, people + rooms, since, until)
        slots = find_slots(venue, kind, now, busy, people, count=1)
        if not slots:
            raise PermanentError(
                f"no free slot within {settings.horizon_days} days for match {match.match_id}"
            )
        start, room = slots[0]
        booked = await _try_allocate(conn, match, venue, room, start, kind, settings, secret, now)
        if booked is not None:
            return booked
    raise RuntimeError("the slots kept being taken; retrying later")


async def _try_allocate(
    conn: asyncpg.Connection,
    match: MatchAccepted,
    venue: Venue,
    room: Room | None,
    start: datetime,
    kind: MeetingType,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
) -> MeetingDetails | None:
    end = start + kind.duration
    resources = [f"provider:{match.provider.party_id}", f"company:{match.company.party_id}"]
    if room is not None:
        resources.append(f"room:{room.room_id}")
    meeting_id = f"mtg-{uuid.uuid4().hex[:12]}"
    details = MeetingDetails(
        meeting_id=meeting_id,
        match_id=match.match_id,
        need_id=match.need.need_id,
        title=match.need.title,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        place=Place(
            venue_id=venue.venue_id,
            name=venue.name,
            kind="virtual" if venue.kind == "virtual" else "in_person",
            address=venue.address,
            room_id=room.room_id if room else None,
            room_name=room.name if room else None,
            video_url=venue.video_url,
        ),
        organizer=Organizer(name=settings.organizer_name, email=settings.organizer_email),
        attendees=tuple(
            Attendee(
                party_id=party.party_id,
                party_kind=party.kind,
                party_name=party.name,
                contact=contact,
                rsvp_url=f"{settings.public_base_url}/rsvp/"
                + rsvp.issue(secret, meeting_id, contact.contact_id, rsvp.default_expiry(end)),
            )
            for party, contact in _attendees(match.company, match.provider)
        ),
    )
    try:
        async with conn.transaction():
            keys = await repository.resource_keys(conn, resources)
            await repository.lock_resources(conn, list(keys.values()))
            uid = f"{meeting_id}@werkbank"
            await repository.insert_meeting(
                conn,
                meeting_id,
                match.match_id,
                uid,
                details.start,
                details.end,
                details.model_dump(mode="json"),
            )
            await repository.allocate(
                conn,
                meeting_id,
                list(keys.values()),
                start - kind.buffer_before,
                end + kind.buffer_after,
            )
    except asyncpg.ExclusionViolationError:
        return None
    await _schedule_reminders(conn, details, settings)
    calendar = build_calendar(details, f"{meeting_id}@werkbank", 0, CalendarMethod.REQUEST, now)
    await enqueue(
        conn,
        wrap(
            MeetingConfirmed(meeting=details, calendar=calendar),
            source=SOURCE,
            correlation_id=f"match:{match.match_id}",
        ),
    )
    return details


async def _schedule_reminders(
    conn: asyncpg.Connection, details: MeetingDetails, settings: BookingSettings
) -> None:
    await repository.drop_pending_reminders(conn, details.meeting_id)
    for lead in settings.reminder_leads_minutes:
        await repository.schedule_reminder(
            conn,
            f"{details.meeting_id}:{lead}",
            details.meeting_id,
            lead,
            details.start - timedelta(minutes=lead),
        )


async def reschedule(
    conn: asyncpg.Connection,
    meeting_id: str,
    new_start: datetime,
    settings: BookingSettings,
    now: datetime,
    reason: str = "",
) -> MeetingDetails:
    row = await repository.meeting(conn, meeting_id, for_update=True)
    if row is None or row["status"] == "cancelled":
        raise NotFoundError(f"no live meeting {meeting_id}")
    details = MeetingDetails.model_validate(row["details"])
    kind = meeting_type(settings)
    new_end = new_start + kind.duration
    if new_start <= now:
        raise SlotError("the new time is in the past")
    venue_docs = await repository.venues(conn) or [DEFAULT_VENUE]
    venue = venue_from_doc(
        next((v for v in venue_docs if v["venue_id"] == details.place.venue_id), venue_docs[0])
    )
    if venue.kind != "virtual" and (why := venue.why_closed(new_start, new_end)):
        raise SlotError(why)
    resources = [
        f"provider:{a.party_id}" if a.party_kind == "provider" else f"company:{a.party_id}"
        for a in details.attendees
    ]
    if details.place.room_id:
        resources.append(f"room:{details.place.room_id}")
    await repository.release(conn, meeting_id)
    try:
        async with conn.transaction():
            keys = await repository.resource_keys(conn, sorted(set(resources)))
            await repository.lock_resources(conn, list(keys.values()))
            await repository.allocate(
                conn,
                meeting_id,
                list(keys.values()),
                new_start - kind.buffer_before,
                new_end + kind.buffer_after,
            )
    except asyncpg.ExclusionViolationError as exc:
        raise SlotError("the new time is already taken") from exc
    previous_start, previous_end = details.start, details.end
    details = details.model_copy(
        update={"start": new_start.astimezone(UTC), "end": new_end.astimezone(UTC)}
    )
    sequence = row["sequence"] + 1
    await repository.update_meeting(
        conn,
        meeting_id,
        sequence,
        "confirmed",
        details.start,
        details.end,
        details.model_dump(mode="json"),
    )
    await _schedule_reminders(conn, details, settings)
    calendar = build_calendar(details, row["uid"], sequence, CalendarMethod.REQUEST, now)
    event = MeetingRescheduled(
        meeting=details,
        previous_start=previous_start,
        previous_end=previous_end,
        calendar=calendar,
        reason=reason,
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"match:{details.match_id}"))
    return details


async def cancel(
    conn: asyncpg.Connection, meeting_id: str, now: datetime, reason: str = ""
) -> MeetingDetails:
    row = await repository.meeting(conn, meeting_id, for_update=True)
    if row is None or row["status"] == "cancelled":
        raise NotFoundError(f"no live meeting {meeting_id}")
    details = MeetingDetails.model_validate(row["details"])
    sequence = row["sequence"] + 1
    await repository.release(conn, meeting_id)
    await repository.drop_pending_reminders(conn, meeting_id)
    await repository.update_meeting(
        conn, meeting_id, sequence, "cancelled", details.start, details.end, row["details"]
    )
    calendar = build_calendar(details, row["uid"], sequence, CalendarMethod.CANCEL, now)
    event = MeetingCancelled(meeting=details, calendar=calendar, reason=reason)
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"match:{details.match_id}"))
    return details


async def respond(
    conn: asyncpg.Connection, claim: rsvp.RsvpClaim, answer: AttendeeResponse, comment: str
) -> None:
    row = await repository.meeting(conn, claim.meeting_id)
    if row is None:
        raise NotFoundError("unknown meeting")
    details = MeetingDetails.model_validate(row["details"])
    attendee = next(
        (a for a in details.attendees if a.contact.contact_id == claim.contact_id), None
    )
    if attendee is None:
        raise NotFoundError("unknown attendee")
    await repository.record_response(conn, claim.meeting_id, claim.contact_id, answer.value)
    event = AttendeeResponded(
        meeting_id=claim.meeting_id,
        match_id=details.match_id,
        contact_id=claim.contact_id,
        party_kind=attendee.party_kind,
        response=answer,
        comment=comment,
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"match:{details.match_id}"))


async def publish_due_reminders(conn: asyncpg.Connection, now: datetime, limit: int = 100) -> int:
    """Each due reminder once, even with several replicas (SKIP LOCKED, marked in the same tx)."""
    rows = await repository.due_reminders(conn, now, limit)
    for row in rows:
        meeting = await repository.meeting(conn, row["meeting_id"])
        if meeting is None or meeting["status"] == "cancelled":
            await repository.mark_reminder_sent(conn, row["reminder_id"])
            continue
        details = MeetingDetails.model_validate(meeting["details"])
        event = ReminderDue(
            reminder_id=row["reminder_id"], meeting=details, lead_minutes=row["lead_minutes"]
        )
        envelope = wrap(
            event,
            source=SOURCE,
            correlation_id=f"match:{details.match_id}",
            event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"werkbank:reminder:{row['reminder_id']}"),
        )
        await enqueue(conn, envelope)
        await repository.mark_reminder_sent(conn, row["reminder_id"])
    return len(rows)

"""Use cases of the booking service, each inside the caller's unit of work."""

from __future__ import annotations

import logging
import uuid
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from prometheus_client import Counter

from services.booking import repository
from services.booking.domain.calendar import (
    BusyIndex,
    Interval,
    MeetingType,
    Room,
    Venue,
    find_slots,
    padded,
)
from services.booking.invitations import build_calendar, prepare_calendar, rsvp_url
from services.booking.places import (
    DEFAULT_VENUE,
    Wishes,
    usable_venues,
    wishes_of,
    wishes_of_many,
)
from services.booking.settings import BookingSettings
from shared.events.base import Envelope, wrap
from shared.events.booking import (
    Attendee,
    CalendarMethod,
    MeetingConfirmed,
    MeetingDetails,
    Organizer,
    Place,
    ReminderDue,
)
from shared.events.common import Party
from shared.events.matching import MatchAccepted
from shared.messaging import PermanentError, enqueue, inbox
from shared.messaging.outbox import enqueue_all

SOURCE = "booking"
log = logging.getLogger(__name__)


class NotFoundError(LookupError):
    pass


class SlotError(ValueError):
    """The requested time cannot be booked; the message says why."""


MEETINGS = Counter(
    "werkbank_booking_meetings_total", "Meetings confirmed, rescheduled or cancelled", ["change"]
)


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


Slot = tuple[datetime, Room | None]


def best_slots(
    venues: list[Venue],
    kind: MeetingType,
    now: datetime,
    busy: dict[str, list[tuple[datetime, datetime]]] | BusyIndex,
    people: list[str],
    wishes: Wishes,
    count: int,
    room_offset: int = 0,
) -> tuple[Venue, list[Slot]] | None:
    """The best slots at the first venue (in the staff's order) that has any. A venue whose
    search fails is logged and passed over: one broken venue never stops the others."""
    if wishes.unreadable:
        raise PermanentError(f"unreadable availability of {', '.join(wishes.unreadable)}")
    for venue in venues:
        try:
            slots = find_slots(
                venue,
                kind,
                now,
                busy,
                people,
                count=count,
                provider=wishes.provider,
                company=wishes.company,
                room_offset=room_offset,
            )
        except (KeyError, TypeError, ValueError, NotImplementedError) as exc:
            log.error(
                "venue skipped: slot search failed",
                extra={"venue_id": venue.venue_id, "error": type(exc).__name__},
            )
            continue
        if slots:
            return venue, slots
    return None


async def book_match(
    conn: asyncpg.Connection,
    envelope: Envelope[MatchAccepted],
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
) -> MeetingDetails | None:
    """Book the best slot and confirm it; with ``settings.options`` > 1, hold alternatives.

    Top-N design: the best N slots (on different days) are allocated in one transaction. The
    first is confirmed at once (MeetingConfirmed, REQUEST); the others stay held, blocking
    their provider, company and room like any booking, as the ready answer to a decline: the
    next held option is offered without a new search. Holds are dropped when the meeting is
    cancelled, rescheduled by staff, or marked held/no-show.
    """
    match = envelope.data
    if await repository.meeting_for_match(conn, match.match_id):
        return None
    venues = usable_venues(await repository.venues(conn) or [DEFAULT_VENUE])
    kind = meeting_type(settings)
    wishes = await wishes_of(conn, match.provider.party_id, match.company.party_id)
    people = [f"provider:{match.provider.party_id}", f"company:{match.company.party_id}"]
    rooms = [f"room:{room.room_id}" for venue in venues for room in venue.rooms]
    until = now + kind.horizon + timedelta(days=1)
    taken: dict[str, list[Interval]] = {}
    for _ in range(20):
        busy = await repository.busy(conn, people + rooms, now, until)
        for resource, spans in taken.items():
            busy.setdefault(resource, []).extend(spans)
        found = best_slots(
            venues,
            kind,
            now,
            busy,
            people,
            wishes,
            settings.options,
            zlib.crc32(match.match_id.encode()),
        )
        if found is None:
            raise PermanentError(
                f"no free slot within {settings.horizon_days} days for match {match.match_id}"
            )
        venue, [(start, room), *alternatives] = found
        booked = await _try_allocate(
            conn,
            match,
            venue,
            room,
            start,
            kind,
            settings,
            secret,
            now,
            holds=alternatives,
            taken=taken,
        )
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
    *,
    holds: Sequence[Slot] = (),
    taken: dict[str, list[Interval]] | None = None,
) -> MeetingDetails | None:
    """Allocate the slot (and hold the alternatives) and confirm it; None if it was taken.

    A room that a concurrent booking holds is noted in ``taken`` (with the span tried), so that
    the next attempt picks another room without waiting for that booking to commit.
    """
    taken = {} if taken is None else taken
    people = [f"provider:{match.provider.party_id}", f"company:{match.company.party_id}"]
    rooms = [f"room:{r.room_id}" for r in (room, *(h[1] for h in holds)) if r is not None]
    # Built before any lock is taken: the locks are then held only for the SQL and the commit.
    details, confirmed = _confirmation(match, venue, room, start, kind, settings, secret, now)
    meeting_id, uid = details.meeting_id, confirmed.data.calendar.uid
    slots = [(start, room), *holds]
    try:
        async with conn.transaction():
            keys = await _lock(conn, people, rooms)
            await repository.insert_meeting(
                conn,
                meeting_id,
                match.match_id,
                uid,
                details.start,
                details.end,
                details.model_dump(mode="json"),
            )
            await _allocate_slots(conn, meeting_id, people, slots, kind, keys)
    except asyncpg.ExclusionViolationError:
        return None
    except _RoomsTakenError as exc:
        for resource in exc.resources:
            taken.setdefault(resource, []).append(padded(start, kind))
        return None
    await schedule_reminders(conn, details, settings, new=True)
    await enqueue(conn, confirmed)
    return details


def new_meeting_id() -> str:
    return f"mtg-{uuid.uuid4().hex[:12]}"


def _confirmation(
    match: MatchAccepted,
    venue: Venue,
    room: Room | None,
    start: datetime,
    kind: MeetingType,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
    meeting_id: str | None = None,
) -> tuple[MeetingDetails, Envelope[MeetingConfirmed]]:
    """The new meeting and its MeetingConfirmed event, with a calendar object per attendee."""
    end = start + kind.duration
    meeting_id = meeting_id or new_meeting_id()
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
                rsvp_url=rsvp_url(settings, secret, meeting_id, contact.contact_id, end, 0),
            )
            for party, contact in _attendees(match.company, match.provider)
        ),
    )
    uid = f"{meeting_id}@werkbank"
    confirmed = wrap(
        MeetingConfirmed(
            meeting=details, calendar=build_calendar(details, uid, 0, CalendarMethod.REQUEST, now)
        ),
        source=SOURCE,
        correlation_id=f"match:{match.match_id}",
    )
    return details, confirmed


async def book_group(
    conn: asyncpg.Connection,
    consumer: str,
    envelopes: Sequence[Envelope[MatchAccepted]],
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
) -> list[MeetingDetails | Exception | None]:
    """``book_match`` for a group of events in one transaction: one outcome per event, in order.

    Every resource the group may use (its people and all rooms) is locked first, blocking and in
    sorted order; the busy times are then read once and each booking adds its own before the
    next one searches. A repeated event, or a match that already has a meeting, gets None; an
    event that cannot be booked gets its error, and the others still commit.
    """
    outcomes: list[MeetingDetails | Exception | None] = [None] * len(envelopes)
    handled = await inbox.handled(conn, consumer, [e.id for e in envelopes])
    booked_matches = await repository.matches_with_meetings(
        conn, [e.data.match_id for e in envelopes]
    )
    claims, todo = _sort_out(envelopes, handled, booked_matches, outcomes)
    if not todo:
        await inbox.claim_all(conn, consumer, claims)
        return outcomes
    venues = usable_venues(await repository.venues(conn) or [DEFAULT_VENUE])
    kind = meeting_type(settings)
    pairs = [_party_ids(envelopes[at].data) for at in todo]
    wishes = await wishes_of_many(conn, pairs)
    resources = sorted(
        {f"provider:{p}" for p, _ in pairs}
        | {f"company:{c}" for _, c in pairs}
        | {f"room:{room.room_id}" for venue in venues for room in venue.rooms}
    )
    meeting_ids = {at: new_meeting_id() for at in todo}
    for at, meeting_id in meeting_ids.items():  # the calendar's slow part, before the locks
        match = envelopes[at].data
        contacts = [contact for _, contact in _attendees(match.company, match.provider)]
        prepare_calendar(f"{meeting_id}@werkbank", contacts, settings, now)
    keys = await repository.resource_keys(conn, resources)
    await repository.lock_resources(conn, list(keys.values()))
    until = now + kind.horizon + timedelta(days=1)
    index = BusyIndex(await repository.busy(conn, resources, now, until))
    booked: list[repository.Booked] = []
    confirmations: list[Envelope[MeetingConfirmed]] = []
    for at in todo:
        envelope = envelopes[at]
        provider_id, company_id = _party_ids(envelope.data)
        people = [f"provider:{provider_id}", f"company:{company_id}"]
        try:
            found = best_slots(
                venues,
                kind,
                now,
                index,
                people,
                wishes[(provider_id, company_id)],
                settings.options,
                zlib.crc32(envelope.data.match_id.encode()),
            )
        except PermanentError as exc:
            outcomes[at] = exc
            continue
        if found is None:
            outcomes[at] = PermanentError(
                f"no free slot within {settings.horizon_days} days for match "
                f"{envelope.data.match_id}"
            )
            continue
        venue, slots = found
        details, confirmed = _confirmation(
            envelope.data,
            venue,
            slots[0][1],
            slots[0][0],
            kind,
            settings,
            secret,
            now,
            meeting_ids[at],
        )
        booked.append(_booked(details, confirmed, people, slots, kind, keys, index, settings))
        confirmations.append(confirmed)
        claims.append(envelope)
        outcomes[at] = details
    await repository.insert_booked(conn, booked)
    await enqueue_all(conn, confirmations)
    await inbox.claim_all(conn, consumer, claims)
    return outcomes


def _sort_out(
    envelopes: Sequence[Envelope[MatchAccepted]],
    handled: set[uuid.UUID],
    booked_matches: set[str],
    outcomes: list[MeetingDetails | Exception | None],
) -> tuple[list[Envelope[MatchAccepted]], list[int]]:
    """The events to claim without booking (their match has a meeting), and the positions of
    those to book. A repeat stays None; a second event for a match booked in this group gets an
    error, so that it comes back and finds the meeting."""
    claims: list[Envelope[MatchAccepted]] = []
    todo: list[int] = []
    seen_events: set[uuid.UUID] = set()
    seen_matches: set[str] = set()
    for at, envelope in enumerate(envelopes):
        match_id = envelope.data.match_id
        if envelope.id in handled or envelope.id in seen_events:
            continue
        seen_events.add(envelope.id)
        if match_id in booked_matches:
            claims.append(envelope)
        elif match_id in seen_matches:
            outcomes[at] = RuntimeError(f"match {match_id} is being booked in this group")
        else:
            seen_matches.add(match_id)
            todo.append(at)
    return claims, todo


def _party_ids(match: MatchAccepted) -> tuple[str, str]:
    return match.provider.party_id, match.company.party_id


def _booked(
    details: MeetingDetails,
    confirmed: Envelope[MeetingConfirmed],
    people: list[str],
    slots: list[Slot],
    kind: MeetingType,
    keys: dict[str, int],
    index: BusyIndex,
    settings: BookingSettings,
) -> repository.Booked:
    """The rows of a meeting booked in a group; its slots are marked busy in ``index``."""
    allocations = []
    for start, room in slots:
        resources = people + ([f"room:{room.room_id}"] if room else [])
        span = padded(start, kind)
        for resource in resources:
            index.add(resource, span)
        allocations.append(([keys[r] for r in resources], *span))
    return repository.Booked(
        meeting_id=details.meeting_id,
        match_id=details.match_id,
        uid=confirmed.data.calendar.uid,
        starts=details.start,
        ends=details.end,
        details=details.model_dump(mode="json"),
        allocations=allocations,
        held_options=[
            (option, start, *room_ref(room)) for option, (start, room) in enumerate(slots) if option
        ],
        reminder_leads=list(settings.reminder_leads_minutes),
    )


class _RoomsTakenError(Exception):
    def __init__(self, resources: list[str]) -> None:
        super().__init__(", ".join(resources))
        self.resources = resources


async def _lock(conn: asyncpg.Connection, people: list[str], rooms: list[str]) -> dict[str, int]:
    """Wait for the people (in sorted order); a room another booking holds is not waited for:
    any free room will do, so the caller picks another one instead of queueing."""
    keys = await repository.resource_keys(conn, people + rooms)
    await repository.lock_resources(conn, [keys[p] for p in people])
    held_elsewhere = await repository.try_lock_resources(conn, [keys[r] for r in rooms])
    if held_elsewhere:
        raise _RoomsTakenError([r for r in rooms if keys[r] in held_elsewhere])
    return keys


async def _allocate_slots(
    conn: asyncpg.Connection,
    meeting_id: str,
    people: list[str],
    slots: list[Slot],
    kind: MeetingType,
    keys: dict[str, int],
) -> None:
    """Option 0 is the booked slot; the others are held alternatives."""
    for option, (slot, slot_room) in enumerate(slots):
        resources = people + ([f"room:{slot_room.room_id}"] if slot_room else [])
        await repository.allocate(
            conn, meeting_id, [keys[r] for r in resources], *padded(slot, kind), option
        )
        if option > 0:
            await repository.hold_option(conn, meeting_id, option, slot, *room_ref(slot_room))


def room_ref(room: Room | None) -> tuple[str | None, str | None]:
    return (room.room_id, room.name) if room else (None, None)


async def schedule_reminders(
    conn: asyncpg.Connection, details: MeetingDetails, settings: BookingSettings, *, new: bool
) -> None:
    if not new:
        await repository.drop_pending_reminders(conn, details.meeting_id)
    await repository.schedule_reminders(
        conn, details.meeting_id, list(settings.reminder_leads_minutes), details.start
    )


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

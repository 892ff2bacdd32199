"""The free times a booked meeting may move to, for the staff's slot picker.

The same pure search that books a match (``find_slots``): the venue's opening hours and
holidays, the provider's hours and days off, the company's preferred windows, and both parties
and the meeting's room free (buffers included), as if the meeting had already left its slot.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import asyncpg
from pydantic import AwareDatetime, BaseModel

from services.booking import repository
from services.booking.changes import live_meeting, party_ids, people_of, venue_of
from services.booking.domain.calendar import Room, Venue, find_slots
from services.booking.places import wishes_of
from services.booking.service import meeting_type
from services.booking.settings import BookingSettings
from shared.events.booking import MeetingDetails


class FreeSlot(BaseModel):
    start: AwareDatetime
    end: AwareDatetime
    room_id: str | None
    room_name: str | None


def _in_its_room(venue: Venue, details: MeetingDetails) -> Venue:
    """A reschedule keeps the room, so only that room counts (none for a video meeting)."""
    room_id = details.place.room_id
    if room_id is None:
        return dataclasses.replace(venue, rooms=())
    known = tuple(room for room in venue.rooms if room.room_id == room_id)
    return dataclasses.replace(
        venue, rooms=known or (Room(room_id, details.place.room_name or room_id),)
    )


async def free_slots(
    conn: asyncpg.Connection,
    meeting_id: str,
    settings: BookingSettings,
    now: datetime,
    count: int,
) -> list[FreeSlot]:
    """Up to ``count`` free starts for the meeting, one per day, best first."""
    row = await live_meeting(conn, meeting_id, lock=False)
    details = MeetingDetails.model_validate(row["details"])
    venue = _in_its_room(await venue_of(conn, details), details)
    kind = meeting_type(settings)
    people = people_of(details)
    resources = people + [f"room:{room.room_id}" for room in venue.rooms]
    until = now + kind.horizon + timedelta(days=1)
    busy = await repository.busy_except(conn, resources, now, until, meeting_id)
    wishes = await wishes_of(conn, *party_ids(details))
    found = find_slots(
        venue,
        kind,
        now,
        busy,
        people,
        count=count,
        provider=wishes.provider,
        company=wishes.company,
    )
    return [
        FreeSlot(
            start=start,
            end=start + kind.duration,
            room_id=room.room_id if room else None,
            room_name=room.name if room else None,
        )
        for start, room in found
    ]

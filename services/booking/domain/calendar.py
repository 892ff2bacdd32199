"""Opening hours, holidays and slot search, in Europe/Berlin local time. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class MeetingType:
    duration: timedelta = timedelta(minutes=60)
    buffer_before: timedelta = timedelta(minutes=15)
    buffer_after: timedelta = timedelta(minutes=15)
    minimum_notice: timedelta = timedelta(hours=24)
    horizon: timedelta = timedelta(days=42)
    step: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Room:
    room_id: str
    name: str
    capacity: int = 6


@dataclass(frozen=True)
class Venue:
    venue_id: str
    name: str
    address: str
    kind: str = "in_person"
    video_url: str | None = None
    state: str = "NW"
    opening: dict[int, tuple[time, time]] = field(
        default_factory=lambda: {day: (time(9), time(17)) for day in range(5)}
    )
    closures: tuple[date, ...] = ()
    rooms: tuple[Room, ...] = ()

    def is_holiday(self, day: date) -> bool:
        return day in holidays.country_holidays("DE", subdiv=self.state, years=day.year)

    def why_closed(self, start: datetime, end: datetime) -> str | None:
        """None if the venue is open for the whole of [start, end); else the reason."""
        local_start, local_end = start.astimezone(BERLIN), end.astimezone(BERLIN)
        day = local_start.date()
        if local_end.date() != day:
            return "the meeting would span two days"
        if self.is_holiday(day):
            name = holidays.country_holidays("DE", subdiv=self.state, years=day.year).get(day)
            return f"{day.isoformat()} is a public holiday ({name})"
        if day in self.closures:
            return f"the venue is closed on {day.isoformat()}"
        hours = self.opening.get(day.weekday())
        if hours is None:
            return f"the venue is closed on {local_start.strftime('%A')}s"
        opens, closes = hours
        if local_start.time() < opens or local_end.time() > closes:
            return f"outside opening hours ({opens:%H:%M}–{closes:%H:%M})"
        return None


Interval = tuple[datetime, datetime]


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def candidate_starts(venue: Venue, meeting: MeetingType, now: datetime) -> Iterator[datetime]:
    """Local starts on the step grid, from the minimum notice to the horizon, when open."""
    earliest = now + meeting.minimum_notice
    day = earliest.astimezone(BERLIN).date()
    last_day = (now + meeting.horizon).astimezone(BERLIN).date()
    while day <= last_day:
        hours = venue.opening.get(day.weekday())
        if hours and not venue.is_holiday(day) and day not in venue.closures:
            # Local wall-clock times, so that a meeting lands at 10:00 also on DST days.
            start = datetime.combine(day, hours[0], tzinfo=BERLIN)
            close = datetime.combine(day, hours[1], tzinfo=BERLIN)
            while start + meeting.duration <= close:
                if start >= earliest:
                    yield start
                start = (start.astimezone(BERLIN) + meeting.step).replace(tzinfo=BERLIN)
        day += timedelta(days=1)


def padded(start: datetime, meeting: MeetingType) -> Interval:
    return (start - meeting.buffer_before, start + meeting.duration + meeting.buffer_after)


def find_slots(
    venue: Venue,
    meeting: MeetingType,
    now: datetime,
    busy: dict[str, list[Interval]],
    people: Iterable[str],
    *,
    count: int = 1,
) -> list[tuple[datetime, Room | None]]:
    """The earliest ``count`` slots where every person and one room are free (buffers included)."""
    people = list(people)
    found: list[tuple[datetime, Room | None]] = []
    for start in candidate_starts(venue, meeting, now):
        span = padded(start, meeting)
        if any(overlaps(span, other) for person in people for other in busy.get(person, [])):
            continue
        room = _free_room(venue, span, busy)
        if venue.rooms and room is None:
            continue
        found.append((start, room))
        if len(found) >= count:
            break
    return found


def _free_room(venue: Venue, span: Interval, busy: dict[str, list[Interval]]) -> Room | None:
    for room in venue.rooms:
        if not any(overlaps(span, other) for other in busy.get(f"room:{room.room_id}", [])):
            return room
    return None

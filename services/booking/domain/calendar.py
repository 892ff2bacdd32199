"""Opening hours, holidays and slot search, in Europe/Berlin local time. Pure functions."""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from services.booking.domain.availability import Availability

BERLIN = ZoneInfo("Europe/Berlin")
# The states (and the city of Augsburg) that the holiday library knows for Germany.
GERMAN_SUBDIVISIONS = frozenset(holidays.list_supported_countries()["DE"])


@cache
def public_holidays(state: str, year: int) -> Mapping[date, str]:
    """The public holidays of a German state in a year, by their official (German) names."""
    return dict(holidays.country_holidays("DE", subdiv=state, years=year, language="de"))


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
    equipment: tuple[str, ...] = ()


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

    def __post_init__(self) -> None:
        if self.state not in GERMAN_SUBDIVISIONS:
            msg = f"venue {self.venue_id}: unknown state {self.state[:10]!r}"
            raise ValueError(msg)

    def is_holiday(self, day: date) -> bool:
        return day in public_holidays(self.state, day.year)

    def why_closed(self, start: datetime, end: datetime) -> str | None:
        """None if the venue is open for the whole of [start, end); else the reason."""
        local_start, local_end = start.astimezone(BERLIN), end.astimezone(BERLIN)
        day = local_start.date()
        if local_end.date() != day:
            return "the meeting would span two days"
        if self.is_holiday(day):
            # The official (German) name, as staff know it: "Erster Weihnachtstag".
            names = holidays.country_holidays(
                "DE", subdiv=self.state, years=day.year, language="de"
            )
            name = names.get(day)
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


class BusyIndex:
    """Busy intervals per resource, sorted with a running maximum of their ends, so that each
    overlap check is a binary search instead of a scan (a year of meetings stays fast).

    Intervals can be added (one booking after another in a group, without reading them back).
    Everything is kept in UTC: comparing datetimes of two different zones (a Berlin candidate
    against a UTC busy time) asks the zone for its offset on every comparison, many times slower.
    """

    def __init__(self, busy: Mapping[str, Iterable[Interval]] | None = None) -> None:
        self._index: dict[str, tuple[list[datetime], list[datetime], list[datetime]]] = {}
        self._everyone: dict[tuple[str, ...], BusyIndex] = {}
        for resource, intervals in (busy or {}).items():
            ordered = sorted(_utc(interval) for interval in intervals)
            starts = [start for start, _ in ordered]
            ends = [end for _, end in ordered]
            self._index[resource] = (starts, ends, list(itertools.accumulate(ends, max)))

    def free(self, resource: str, span: Interval) -> bool:
        entry = self._index.get(resource)
        if entry is None:
            return True
        starts, _, ends_so_far = entry
        span = _utc(span)
        before_end = bisect_left(starts, span[1])  # the intervals that start before span ends
        return before_end == 0 or ends_so_far[before_end - 1] <= span[0]

    def add(self, resource: str, span: Interval) -> None:
        span = _utc(span)
        starts, ends, ends_so_far = self._index.setdefault(resource, ([], [], []))
        at = bisect_left(starts, span[0])
        starts.insert(at, span[0])
        ends.insert(at, span[1])
        running = ends_so_far[at - 1] if at else span[1]
        ends_so_far[at:] = list(itertools.accumulate(ends[at:], max, initial=running))[1:]
        for group, full in self._everyone.items():
            if resource in group:  # the times the span makes full for the whole group
                for piece in self._busy_for_all(group, span):
                    full.add("all", piece)

    def _busy_for_all(self, resources: tuple[str, ...], span: Interval) -> list[Interval]:
        """The parts of ``span`` during which every one of ``resources`` is busy."""
        pieces = [span]
        for resource in resources:
            pieces = [part for piece in pieces for part in self._busy_within(resource, piece)]
            if not pieces:
                break
        return pieces

    def _busy_within(self, resource: str, span: Interval) -> list[Interval]:
        entry = self._index.get(resource)
        if entry is None:
            return []
        starts, ends, ends_so_far = entry
        span = _utc(span)
        first = bisect_right(ends_so_far, span[0])  # before it, everything ended by span's start
        last = bisect_left(starts, span[1])
        return merged(
            (max(start, span[0]), min(end, span[1]))
            for start, end in zip(starts[first:last], ends[first:last], strict=True)
            if end > span[0]
        )

    def intervals(self, resource: str) -> list[Interval]:
        starts, ends, _ = self._index.get(resource, ([], [], []))
        return list(zip(starts, ends, strict=True))

    def everyone_busy(self, resources: tuple[str, ...]) -> BusyIndex:
        """An index of the times when all of ``resources`` are busy at once (no room free),
        computed once and then kept up to date by ``add``."""
        if resources not in self._everyone:
            full = all_busy([self.intervals(resource) for resource in resources])
            self._everyone[resources] = BusyIndex({"all": full})
        return self._everyone[resources]


def _utc(span: Interval) -> Interval:
    return span[0].astimezone(UTC), span[1].astimezone(UTC)


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def all_busy(per_resource: list[list[Interval]]) -> list[Interval]:
    """The times when every one of the resources is busy at once (a sweep over their edges).

    A span that overlaps one of them cannot have a free room, whatever else is true: most
    candidates on a full day are refused by one binary search instead of one per room.
    """
    if not per_resource or not all(per_resource):
        return []
    edges = sorted(
        (moment, step)
        for intervals in per_resource
        for start, end in merged(intervals)
        for moment, step in ((start, 1), (end, -1))
    )  # at one instant, ends (-1) come before starts: touching spans leave the room free
    full: list[Interval] = []
    busy, since = 0, None
    for moment, step in edges:
        busy += step
        if busy == len(per_resource):
            since = moment
        elif since is not None:
            full.append((since, moment))
            since = None
    return full


def padded(start: datetime, meeting: MeetingType) -> Interval:
    return (start - meeting.buffer_before, start + meeting.duration + meeting.buffer_after)


def find_slots(
    venue: Venue,
    meeting: MeetingType,
    now: datetime,
    busy: Mapping[str, list[Interval]] | BusyIndex,
    people: Iterable[str],
    *,
    count: int = 1,
    provider: Availability | None = None,
    company: Availability | None = None,
    avoid: Iterable[Interval] = (),
    room_offset: int = 0,
) -> list[tuple[datetime, Room | None]]:
    """The best ``count`` slots where every person and one room are free (buffers included).

    A slot outside the provider's hours, or overlapping a span in ``avoid`` (times already
    declined), never counts. Best means inside the company's preferred windows first, then the
    earliest: a company without windows, or whose windows hold no free slot within the horizon,
    still gets the earliest slots. Several slots fall on different days, so that each is a real
    alternative to the others (and they never overlap). Rooms are tried from ``room_offset`` on,
    so that concurrent bookings (by several workers or replicas) rarely race for one room.
    """
    people, avoid = list(people), list(avoid)
    index = busy if isinstance(busy, BusyIndex) else BusyIndex(busy)
    rooms = _rotated(venue.rooms, room_offset)
    full = index.everyone_busy(tuple(f"room:{room.room_id}" for room in venue.rooms))
    preferred: list[tuple[datetime, Room | None]] = []
    others: list[tuple[datetime, Room | None]] = []
    for start in candidate_starts(venue, meeting, now):
        end = start + meeting.duration
        if provider is not None and not provider.covers(start, end):
            continue
        if any(overlaps((start, end), other) for other in avoid):
            continue
        span = padded(start, meeting)
        if not all(index.free(person, span) for person in people):
            continue
        if not full.free("all", span):
            continue
        room = next((r for r in rooms if index.free(f"room:{r.room_id}", span)), None)
        if rooms and room is None:
            continue
        liked = company is None or company.covers(start, end)
        chosen = preferred if liked else others
        if chosen and _day(chosen[-1][0]) == _day(start):
            continue
        if liked or len(others) < count:
            chosen.append((start, room))
        if len(preferred) >= count:
            break
    return _on_distinct_days(preferred + others)[:count]


def _day(moment: datetime) -> date:
    return moment.astimezone(BERLIN).date()


def _on_distinct_days(
    slots: list[tuple[datetime, Room | None]],
) -> list[tuple[datetime, Room | None]]:
    seen: set[date] = set()
    kept = []
    for slot in slots:
        if _day(slot[0]) not in seen:
            seen.add(_day(slot[0]))
            kept.append(slot)
    return kept


def _rotated(rooms: tuple[Room, ...], offset: int) -> tuple[Room, ...]:
    cut = offset % len(rooms) if rooms else 0
    return rooms[cut:] + rooms[:cut]

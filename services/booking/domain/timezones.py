"""VTIMEZONE components written from the tz database itself. Pure.

Each transition becomes its own STANDARD or DAYLIGHT component whose DTSTART is the wall-clock
time just before the change, read in TZOFFSETFROM (RFC 5545 3.6.5): so every reader computes
the same UTC instant as the tz database. (icalendar's ``Timezone.from_tzid`` wrote the local
time after the change, which moved summer time one hour late.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Transition:
    at: datetime  # UTC
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _change_within(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first instant in (low, high] whose offset differs from low's, to the second."""
    before = _offset(zone, low)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def transitions(zone: ZoneInfo, first_year: int, last_year: int) -> list[Transition]:
    """Every change of UTC offset from 1 January of ``first_year`` to the end of ``last_year``."""
    moment = datetime(first_year, 1, 1, tzinfo=UTC) - _DAY
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC) + _DAY
    found: list[Transition] = []
    while moment < end:
        following = moment + _DAY
        if _offset(zone, moment) != _offset(zone, following):
            at = _change_within(zone, moment, following)
            local = at.astimezone(zone)
            found.append(
                Transition(
                    at=at,
                    offset_from=_offset(zone, at - timedelta(seconds=1)),
                    offset_to=_offset(zone, at),
                    name=local.tzname() or zone.key,
                    daylight=bool(local.dst()),
                )
            )
        moment = following
    return found


def _utc_offset(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def _component(kind: str, local_start: datetime, name: str, before: str, after: str) -> str:
    return (
        f"BEGIN:{kind}\r\n"
        f"DTSTART:{local_start:%Y%m%dT%H%M%S}\r\n"
        f"TZNAME:{name}\r\n"
        f"TZOFFSETFROM:{before}\r\n"
        f"TZOFFSETTO:{after}\r\n"
        f"END:{kind}\r\n"
    )


@cache
def vtimezone(zone_key: str, first_year: int, last_year: int) -> str:
    """A VTIMEZONE that agrees with the tz database from ``first_year`` to ``last_year``."""
    zone = ZoneInfo(zone_key)
    start = datetime(first_year, 1, 1, tzinfo=zone).astimezone(UTC)
    initial = _offset(zone, start)
    opening = start.astimezone(zone)
    parts = [
        _component(
            "DAYLIGHT" if opening.dst() else "STANDARD",
            (start + initial).replace(tzinfo=None),
            opening.tzname() or zone_key,
            _utc_offset(initial),
            _utc_offset(initial),
        )
    ]
    for change in transitions(zone, first_year, last_year):
        if change.at <= start:
            continue
        parts.append(
            _component(
                "DAYLIGHT" if change.daylight else "STANDARD",
                (change.at + change.offset_from).replace(tzinfo=None),
                change.name,
                _utc_offset(change.offset_from),
                _utc_offset(change.offset_to),
            )
        )
    return f"BEGIN:VTIMEZONE\r\nTZID:{zone_key}\r\n{''.join(parts)}END:VTIMEZONE\r\n"

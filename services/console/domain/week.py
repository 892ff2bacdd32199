"""The week view's calendar: which week a URL names, and its grid of hours by days.

Pure: the meetings come in, a grid of cells (each with the meetings that start in it) goes out.
Times are wall-clock times in the office's zone (Europe/Berlin), also across a DST change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

FIRST_HOUR, LAST_HOUR = 8, 18
_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")  # the office's day; meetings outside widen the grid


@dataclass(frozen=True)
class Week:
    monday: date

    @property
    def label(self) -> str:
        year, number, _ = self.monday.isocalendar()
        return f"{year}-W{number:02d}"

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    def previous(self) -> Week:
        return Week(self.monday - timedelta(days=7))

    def next(self) -> Week:
        return Week(self.monday + timedelta(days=7))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        start = datetime.combine(self.monday, time(0), zone)
        return start, datetime.combine(self.monday + timedelta(days=7), time(0), zone)


def week_of(text: str | None, today: date) -> Week:
    """The ISO week ``YYYY-Www`` names; the week of ``today`` if it names none."""
    named = _ISO_WEEK.fullmatch(text or "")
    if named:
        try:
            return Week(date.fromisocalendar(int(named[1]), int(named[2]), 1))
        except ValueError:
            pass
    return Week(today - timedelta(days=today.weekday()))


@dataclass
class Row:
    hour: int
    cells: list[list[dict[str, Any]]] = field(default_factory=list)


def grid(
    week: Week, meetings: list[dict[str, Any]], zone: ZoneInfo
) -> tuple[list[date], list[Row]]:
    """The days to show (Monday to Friday, the weekend only when it has meetings) and one row
    per hour, each cell holding the meetings that start in that hour on that day."""
    by_slot: dict[tuple[date, int], list[dict[str, Any]]] = {}
    for meeting in meetings:
        local = meeting["starts_at"].astimezone(zone)
        by_slot.setdefault((local.date(), local.hour), []).append(meeting)
    days = [d for d in week.days if d.weekday() < 5 or any(k[0] == d for k in by_slot)]
    hours = {h for _, h in by_slot} | set(range(FIRST_HOUR, LAST_HOUR))
    rows = [
        Row(hour, [by_slot.get((day, hour), []) for day in days])
        for hour in range(min(hours), max(hours) + 1)
    ]
    return days, rows

"""When a provider can meet and when a company prefers to meet, in Europe/Berlin local time.

Pure values: weekly hours per weekday (0 = Monday), dates off, and extra hours on single dates.
A provider's hours are a hard limit; a company's windows are a preference (see ``find_slots``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from services.booking.domain.calendar import BERLIN

Window = tuple[time, time]


@dataclass(frozen=True)
class Availability:
    weekly: Mapping[int, tuple[Window, ...]] = field(default_factory=dict)
    dates_off: frozenset[date] = frozenset()
    extra: Mapping[date, tuple[Window, ...]] = field(default_factory=dict)

    def windows_on(self, day: date) -> tuple[Window, ...]:
        if day in self.dates_off:
            return ()
        return (*self.weekly.get(day.weekday(), ()), *self.extra.get(day, ()))

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether one window holds the whole of [start, end)."""
        local_start, local_end = start.astimezone(BERLIN), end.astimezone(BERLIN)
        if local_end.date() != local_start.date():
            return False
        begins, ends = local_start.time(), local_end.time()
        return any(
            opens <= begins and ends <= closes
            for opens, closes in self.windows_on(local_start.date())
        )

    def why_not(self, start: datetime, end: datetime) -> str | None:
        """None if available for [start, end); else the reason, for people."""
        if self.covers(start, end):
            return None
        day = start.astimezone(BERLIN).date()
        if day in self.dates_off:
            return f"{day.isoformat()} is a day off"
        windows = ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in self.windows_on(day)) or "none"
        return f"outside the available hours on {day.isoformat()} ({windows})"


def availability_from_doc(doc: Mapping[str, Any]) -> Availability:
    """From the stored (and API) shape: ISO times and dates as strings."""
    weekly: Mapping[str, list[list[str]]] = doc.get("weekly", {})
    extra_by_day: dict[date, tuple[Window, ...]] = {}
    for item in doc.get("extra", []):
        day = date.fromisoformat(item["date"])
        extra_by_day[day] = (*extra_by_day.get(day, ()), _window(item["start"], item["end"]))
    return Availability(
        weekly={int(day): tuple(_window(*w) for w in spans) for day, spans in weekly.items()},
        dates_off=frozenset(date.fromisoformat(d) for d in doc.get("dates_off", [])),
        extra=extra_by_day,
    )


def _window(start: str, end: str) -> Window:
    return time.fromisoformat(start), time.fromisoformat(end)

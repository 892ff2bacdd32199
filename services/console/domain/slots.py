"""Times the slot picker offers for a reschedule: office hours on the next working days.

booking decides whether a room and both parties are free; a taken time comes back as a field
error beside the picker.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

OFFICE_STARTS = (time(9, 0), time(10, 30), time(13, 0), time(14, 30))


def candidate_starts(now: datetime, zone: ZoneInfo, days: int = 5) -> list[datetime]:
    """The office-hour starts of the next ``days`` working days after ``now``."""
    found: list[datetime] = []
    day: date = now.astimezone(zone).date()
    while len({start.date() for start in found}) < days:
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        found.extend(datetime.combine(day, start, zone) for start in OFFICE_STARTS)
    return found

"""Booking's slot search."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.common import BenchContext, Figure, median
from services.booking.domain.calendar import BERLIN, MeetingType, Room, Venue, find_slots


def booking_figures(searches: int = 50) -> list[Figure]:
    venue = Venue(
        "w", "Werkbank", "Dortmund", rooms=tuple(Room(f"r{i}", f"Raum {i}") for i in range(10))
    )
    kind = MeetingType(horizon=timedelta(days=365))
    now = datetime(2027, 1, 4, 7, tzinfo=UTC)
    busy: dict[str, list[tuple[datetime, datetime]]] = {"provider": []}
    day = now.astimezone(BERLIN).replace(hour=9, minute=0)
    for offset in range(365):  # a year of meetings for the provider: 09:00-15:00 every day
        start = day + timedelta(days=offset)
        busy["provider"].append((start, start + timedelta(hours=6)))
    timings = []
    for _ in range(searches):
        started = time.perf_counter()
        find_slots(venue, kind, now, busy, ["provider", "company"])
        timings.append((time.perf_counter() - started) * 1000)
    return [Figure("booking_slot_search_p50", median(timings), "ms", goal="<= 10 ms")]


async def run(context: BenchContext) -> list[Figure]:
    return booking_figures()

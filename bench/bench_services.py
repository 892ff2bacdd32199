"""Service figures: matching's ranking and booking's slot search."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from bench.common import BenchContext, Figure, median, percentile
from services.booking.domain.calendar import BERLIN, MeetingType, Room, Venue, find_slots
from services.matching.domain.model import Need, Provider, Taxonomy
from services.matching.domain.scoring import rank
from shared.events.common import ServiceType
from werkbank.sample_data import NEEDS, PROVIDERS


def matching_figures(providers_count: int = 5000, queries: int = 30) -> list[Figure]:
    rng = random.Random(1)
    taxonomy = Taxonomy.load()
    providers = [
        Provider(
            provider_id=f"p{i}",
            name=f"p{i}",
            profile=PROVIDERS[i % len(PROVIDERS)][2],
            categories=tuple(PROVIDERS[i % len(PROVIDERS)][1]),
            lat=51.5 + rng.uniform(-0.2, 0.2),
            lon=7.46 + rng.uniform(-0.2, 0.2),
        )
        for i in range(providers_count)
    ]
    timings = []
    for index in range(queries):
        category, service_type, title, description = NEEDS[index % len(NEEDS)]
        need = Need(
            f"n{index}",
            "c",
            title,
            description,
            (category,),
            ServiceType(service_type),
            lat=51.51,
            lon=7.46,
        )
        started = time.perf_counter()
        rank(need, providers, taxonomy, top=10)
        timings.append((time.perf_counter() - started) * 1000)
    return [
        Figure(
            f"matching_rank_{providers_count}_providers_p50",
            median(timings),
            "ms",
            goal="p50 <= 10 ms at 100,000 providers",
            note="plain per-provider Python scoring",
        ),
        Figure(f"matching_rank_{providers_count}_providers_p99", percentile(timings, 99), "ms"),
    ]


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
    return [*matching_figures(), *booking_figures()]

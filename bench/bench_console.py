"""Console figures: its pages over HTTP on a whole region's read model, and the read model's lag.

The read model is seeded straight into the console's schema (COPY) with 1,000 providers, 5,000
companies, 20,000 needs and 50,000 meetings (with their runs, proposals, attendees and
deliveries); the console then runs as deployed: two processes sharing the durable consumers,
four database connections each. Each list and detail page is fetched over HTTP one request
after another; the baseline is ``/healthz`` on the same server (the cost of the HTTP stack).

For the lag, events of matching, booking and notify are published at a steady 200 per second;
an event counts as arrived when a poll of the console's inbox sees it. The baseline is the same
event reaching a plain NATS subscriber (the bus alone). The CPU the consoles spent per event is
reported beside it: on a shared machine the lag depends on the CPU the consoles get.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import nats
import psutil
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError

from bench.common import BenchContext, Figure, fresh_streams, median, percentile
from services.console.app import MIGRATIONS
from shared.events.base import Envelope, wrap
from shared.events.booking import MeetingConfirmed
from shared.events.common import ServiceType
from shared.events.matching import (
    CompanyUpdated,
    CriterionScore,
    MatchProposed,
    NeedRegistered,
    Proposal,
)
from shared.events.notify import Channel, NotificationDelivered
from shared.events.streams import CONSOLE_CONSUMERS
from shared.migrations import migrate, migrations_for
from tests.notify.test_delivery import confirmed, details
from tests.support.harness import ServiceProcess, publish
from werkbank.stack import StackInfo

PROVIDERS, COMPANIES, NEEDS, MEETINGS = 1_000, 5_000, 20_000, 50_000
REQUESTS = 40  # per page, after a few to warm up
EVENTS_PER_SECOND = 200
LAG_SECONDS = int(os.environ.get("LAG_SECONDS", "30"))
PAGE_GOAL_MS = 150.0
REPLICAS = 2  # as deployed (deploy/k8s/base/console.yaml)

CITIES = (
    ("Dortmund", "44135"),
    ("Bochum", "44787"),
    ("Essen", "45127"),
    ("Hagen", "58095"),
    ("Unna", "59423"),
    ("Witten", "58452"),
    ("Hamm", "59065"),
    ("Herne", "44623"),
)
CATEGORIES = (
    "cloud",
    "security",
    "erp",
    "webshop",
    "data",
    "network",
    "training",
    "ai",
    "crm",
    "hardware",
)
WORDS = [
    "Digitalisierung",
    "Buchhaltung",
    "Lager",
    "Kasse",
    "Onlineshop",
    "Datensicherung",
    "Netzwerk",
    "Homepage",
    "Warenwirtschaft",
    "Schulung",
    "Kundenportal",
    "Zeiterfassung",
    "Telefonanlage",
    "Rechnung",
    "Archiv",
    "Verschlüsselung",
    "Server",
    "Mobilgeräte",
    "Automatisierung",
    "Fördermittel",
    "Beratung",
    "Prozesse",
]
SEARCH_WORD = "Zeiterfassung"
STATUSES = ("open",) * 3 + ("proposed",) * 2 + ("accepted",) + ("booked",) * 4


@dataclass
class Region:
    """The ids the detail pages ask for."""

    providers: list[str] = field(default_factory=list)
    companies: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    meetings: list[str] = field(default_factory=list)
    dead_letters: list[str] = field(default_factory=list)


def _breakdown(rng: random.Random) -> str:
    criteria = ("category", "distance", "capacity", "experience", "rotation")
    return json.dumps(
        [
            {
                "criterion": name,
                "weight": 0.2,
                "value": round(rng.random(), 3),
                "contribution": round(rng.random() * 0.2, 3),
                "reason_de": f"{name}: passt gut",
                "reason_en": f"{name}: a good fit",
            }
            for name in criteria
        ]
    )


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


async def seed(conn: asyncpg.Connection, schema: str, now: datetime) -> Region:
    """The region, written with COPY; every row as the projections would have written it."""
    rng = random.Random(7)
    region = Region()
    providers = []
    for i in range(PROVIDERS):
        city, postcode = rng.choice(CITIES)
        provider_id = f"prov-{i:05d}"
        region.providers.append(provider_id)
        providers.append(
            (
                provider_id,
                f"{rng.choice(WORDS)} IT {i}",
                "it_provider",
                rng.sample(CATEGORIES, 3),
                postcode,
                city,
                rng.randint(2, 20),
                rng.randint(0, 400),
                rng.randint(0, 60),
                now - timedelta(days=rng.randint(0, 365)),
            )
        )
    companies = []
    for i in range(COMPANIES):
        city, postcode = rng.choice(CITIES)
        company_id = f"co-{i:05d}"
        region.companies.append(company_id)
        companies.append(
            (
                company_id,
                f"{rng.choice(WORDS)} GmbH {i}",
                "62",
                postcode,
                city,
                rng.randint(1, 250),
                now - timedelta(days=rng.randint(0, 365)),
            )
        )
    needs, runs, proposals = [], [], []
    company_of: dict[str, str] = {}
    for i in range(NEEDS):
        need_id = f"need-{i:06d}"
        run_id = f"run-{i:06d}"
        company_id = rng.choice(region.companies)
        company_of[need_id] = company_id
        region.needs.append(need_id)
        at = now - timedelta(minutes=rng.randint(0, 525_600))
        status = rng.choice(STATUSES)
        needs.append(
            (
                need_id,
                company_id,
                _text(rng, 4),
                _text(rng, 40),
                rng.sample(CATEGORIES, 2),
                rng.choice(list(ServiceType)).value,
                status,
                2 if rng.random() < 0.03 else rng.randint(0, 1),
                False,
                run_id,
                at,
            )
        )
        runs.append((run_id, [need_id], "bench", False, at))
        for rank, provider_id in enumerate(rng.sample(region.providers, 3), start=1):
            decided = status in ("accepted", "booked") and rank == 1
            proposals.append(
                (
                    f"prop-{i:06d}-{rank}",
                    run_id,
                    need_id,
                    provider_id,
                    rank,
                    1.0 - rank / 10,
                    _breakdown(rng),
                    "accepted" if decided else "proposed",
                    "",
                    "bench" if decided else None,
                    f"match-{i:06d}" if decided else None,
                    at,
                    at if decided else None,
                )
            )
    meetings, attendees, deliveries = [], [], []
    for i in range(MEETINGS):
        meeting_id = f"mtg-{i:06d}"
        region.meetings.append(meeting_id)
        need_id = rng.choice(region.needs)
        starts = now + timedelta(minutes=15 * rng.randint(-17_000, 17_000))
        cancelled = rng.random() < 0.1
        past = starts < now
        meetings.append(
            (
                meeting_id,
                f"match-m{i:06d}",
                need_id,
                f"Erstgespräch {_text(rng, 2)}",
                starts,
                starts + timedelta(hours=1),
                "cancelled" if cancelled else "confirmed",
                "werkbank",
                "Digitale Werkbank",
                f"Werkraum {rng.randint(1, 10)}",
                "Rheinlanddamm 1, 44139 Dortmund",
                None,
                f"{rng.choice(WORDS)} GmbH",
                f"{rng.choice(WORDS)} IT",
                rng.randint(0, 2),
                0,
                (
                    ("no_show" if rng.random() < 0.05 else "held")
                    if past and not cancelled
                    else None
                ),
                None,
                "",
                starts - timedelta(days=7),
            )
        )
        for kind in ("company", "provider"):
            contact_id = f"{kind}-{i:06d}"
            attendees.append(
                (
                    meeting_id,
                    contact_id,
                    kind,
                    f"{kind} {i}",
                    f"Person {i}",
                    f"{contact_id}@example.org",
                    None,
                    rng.choice(("needs_action", "accepted", "accepted", "declined")),
                    "",
                )
            )
            roll = rng.random()
            status = "failed" if roll < 0.03 else "pending" if roll < 0.05 else "delivered"
            deliveries.append(
                (
                    f"dlv-{i:06d}-{kind}",
                    meeting_id,
                    contact_id,
                    "email",
                    status,
                    "booking.meeting.confirmed",
                    1,
                    "" if status == "delivered" else "550 mailbox unavailable",
                    status == "failed",
                    starts - timedelta(days=7),
                )
            )
    letters = []
    for i in range(300):
        event_id = uuid.UUID(int=rng.getrandbits(128))
        region.dead_letters.append(str(event_id))
        letters.append(
            (
                event_id,
                "notify",
                rng.choice(("notify-on-booking", "booking-on-matching")),
                "booking.meeting.confirmed",
                str(uuid.uuid4()),
                "{}",
                '{"type": "booking.meeting.confirmed"}',
                rng.choice(("invalid payload: meeting.start: missing", "PermanentError: no slot")),
                "ValidationError",
                6,
                now - timedelta(minutes=i),
            )
        )
    tables: list[tuple[str, list[str], list[tuple[Any, ...]]]] = [
        (
            "providers",
            [
                "provider_id",
                "name",
                "kind",
                "categories",
                "postcode",
                "city",
                "capacity",
                "shown",
                "chosen",
                "updated_at",
            ],
            providers,
        ),
        (
            "companies",
            ["company_id", "name", "sector_code", "postcode", "city", "size", "updated_at"],
            companies,
        ),
        (
            "needs",
            [
                "need_id",
                "company_id",
                "title",
                "description",
                "categories",
                "service_type",
                "status",
                "declines",
                "no_slot",
                "last_run_id",
                "updated_at",
            ],
            needs,
        ),
        ("runs", ["run_id", "need_ids", "requested_by", "batch", "requested_at"], runs),
        (
            "proposals",
            [
                "proposal_id",
                "run_id",
                "need_id",
                "provider_id",
                "rank",
                "score",
                "breakdown",
                "status",
                "reason",
                "decided_by",
                "match_id",
                "proposed_at",
                "decided_at",
            ],
            proposals,
        ),
        (
            "meetings",
            [
                "meeting_id",
                "match_id",
                "need_id",
                "title",
                "starts_at",
                "ends_at",
                "status",
                "venue_id",
                "venue_name",
                "room_name",
                "address",
                "video_url",
                "company_name",
                "provider_name",
                "sequence",
                "declines",
                "attendance",
                "no_show_party",
                "reason",
                "updated_at",
            ],
            meetings,
        ),
        (
            "attendees",
            [
                "meeting_id",
                "contact_id",
                "party_kind",
                "party_name",
                "contact_name",
                "email",
                "phone",
                "rsvp",
                "comment",
            ],
            attendees,
        ),
        (
            "deliveries",
            [
                "delivery_id",
                "meeting_id",
                "contact_id",
                "channel",
                "status",
                "source_event_type",
                "attempts",
                "reason",
                "permanent",
                "at",
            ],
            deliveries,
        ),
        (
            "dead_letters",
            [
                "event_id",
                "service",
                "consumer",
                "original_subject",
                "original_msg_id",
                "original_headers",
                "original_body",
                "reason",
                "error_type",
                "deliveries",
                "dead_lettered_at",
            ],
            letters,
        ),
    ]
    for table, columns, rows in tables:
        await conn.copy_records_to_table(table, records=rows, columns=columns, schema_name=schema)
    await conn.execute(f"ANALYZE {', '.join(f'{schema}.{t}' for t, _, _ in tables)}")
    return region


# ---- pages -----------------------------------------------------------------------------------

NEXT_PAGE = re.compile(r"nach=([A-Za-z0-9_\-]+)")


def page_paths(region: Region, now: datetime, rng: random.Random) -> dict[str, Callable[[], str]]:
    """Each page staff use, by name: a function that gives the next URL to ask for."""
    week = now.date()
    return {
        "overview": lambda: "/",
        "needs": lambda: "/bedarfe",
        "needs_search": lambda: f"/bedarfe?q={SEARCH_WORD}",
        "needs_open": lambda: "/bedarfe?status=open",
        "needs_by_title": lambda: "/bedarfe?sort=titel",
        "needs_by_place": lambda: "/bedarfe?ort=Dortmund",
        "needs_declined_twice": lambda: "/bedarfe?abgesagt=2",
        "meetings": lambda: "/termine",
        "meetings_week": lambda: (
            f"/termine?status=confirmed&von={week}&bis={week + timedelta(days=6)}"
        ),
        "meetings_no_show": lambda: "/termine?teilnahme=no_show",
        "meetings_by_place": lambda: "/termine?ort=Werkraum",
        "providers": lambda: "/anbieter",
        "providers_search": lambda: "/anbieter?q=Dort",
        "companies": lambda: "/unternehmen",
        "companies_search": lambda: "/unternehmen?q=Bochum",
        "deliveries": lambda: "/zustellungen",
        "deliveries_failed": lambda: "/zustellungen?status=failed",
        "dead_letters": lambda: "/stoerungen",
        "need": lambda: f"/bedarfe/{rng.choice(region.needs)}",
        "meeting": lambda: f"/termine/{rng.choice(region.meetings)}",
        "provider": lambda: f"/anbieter/{rng.choice(region.providers)}",
        "company": lambda: f"/unternehmen/{rng.choice(region.companies)}",
        "dead_letter": lambda: f"/stoerungen/{rng.choice(region.dead_letters)}?aktion=replay",
    }


async def timed_get(client: httpx.AsyncClient, path: str) -> tuple[float, str]:
    started = time.perf_counter()
    answer = await client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        msg = f"GET {path}: {answer.status_code} {answer.text[:300]}"
        raise RuntimeError(msg)
    return elapsed, answer.text


async def measure(client: httpx.AsyncClient, next_path: Callable[[], str]) -> list[float]:
    for _ in range(3):
        await timed_get(client, next_path())
    return [(await timed_get(client, next_path()))[0] for _ in range(REQUESTS)]


async def second_pages(client: httpx.AsyncClient) -> dict[str, Callable[[], str]]:
    """The page after the first of the longest lists, by the cursor its first page links to."""
    paths: dict[str, Callable[[], str]] = {}
    for name, first in (("needs_page2", "/bedarfe"), ("meetings_page2", "/termine")):
        _, body = await timed_get(client, first)
        found = NEXT_PAGE.search(body)
        if found is None:
            msg = f"{first} links to no next page"
            raise RuntimeError(msg)
        url = f"{first}?nach={found.group(1)}"
        paths[name] = functools.partial(str, url)
    return paths


async def page_figures(base_url: str, region: Region, now: datetime) -> list[Figure]:
    rng = random.Random(11)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        paths = page_paths(region, now, rng) | await second_pages(client)
        floor = await measure(client, lambda: "/healthz")
        timings = {name: await measure(client, path) for name, path in paths.items()}
    floor_p95 = percentile(floor, 95)
    figures = [
        Figure(
            f"console_page_{name}_p95",
            percentile(samples, 95),
            "ms",
            baseline=floor_p95,
            goal=f"<= {PAGE_GOAL_MS:g} ms",
            note=f"p50 {median(samples):.1f} ms, {len(samples)} requests",
        )
        for name, samples in timings.items()
    ]
    worst = max(timings, key=lambda name: percentile(timings[name], 95))
    figures.append(
        Figure(
            "console_pages_worst_p95",
            percentile(timings[worst], 95),
            "ms",
            baseline=floor_p95,
            goal=f"<= {PAGE_GOAL_MS:g} ms",
            note=(
                f"the slowest of {len(timings)} pages: {worst}; baseline GET /healthz; "
                f"load average {os.getloadavg()[0]:.1f}"
            ),
        )
    )
    return figures


# ---- lag -------------------------------------------------------------------------------------


def event_mix(region: Region, rng: random.Random, count: int) -> list[Envelope[Any]]:
    """What a busy office produces: profile edits, new needs and proposals, meetings, deliveries."""
    events: list[Envelope[Any]] = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            company_id = rng.choice(region.companies)
            event: Any = CompanyUpdated(
                company_id=company_id,
                name=f"Geändert {i}",
                sector_code="62",
                postcode="44135",
                city="Dortmund",
                size=12,
            )
            events.append(wrap(event, source="matching"))
        elif kind == 1:
            event = NeedRegistered(
                need_id=f"need-lag-{i}",
                company_id=rng.choice(region.companies),
                title=_text(rng, 4),
                description=_text(rng, 30),
                categories=("cloud",),
                service_type=ServiceType.FIRST_ADVICE,
            )
            events.append(wrap(event, source="matching"))
        elif kind == 2:
            events.append(wrap(_proposed(rng, region, f"need-lag-{i - 1}"), source="matching"))
        elif kind == 3:
            events.append(confirmed(details(f"mtg-lag-{i}")))
        else:
            event = NotificationDelivered(
                delivery_id=f"dlv-lag-{i}",
                source_event_id=str(uuid.uuid4()),
                source_event_type=MeetingConfirmed.event_type(),
                meeting_id=f"mtg-lag-{i - 1}",
                contact_id="contact-1",
                channel=Channel.EMAIL,
                attempts=1,
                delivered_at=datetime.now(UTC),
            )
            events.append(wrap(event, source="notify"))
    return events


def _proposed(rng: random.Random, region: Region, need_id: str) -> MatchProposed:
    proposals = tuple(
        Proposal(
            proposal_id=f"{need_id}-p{rank}",
            provider_id=provider_id,
            rank=rank,
            score=1.0 - rank / 10,
            breakdown=tuple(
                CriterionScore(**criterion) for criterion in json.loads(_breakdown(rng))
            ),
        )
        for rank, provider_id in enumerate(rng.sample(region.providers, 3), start=1)
    )
    return MatchProposed(
        run_id=f"run-{need_id}",
        need_id=need_id,
        company_id=rng.choice(region.companies),
        proposals=proposals,
        taxonomy_version="bench",
    )


@dataclass
class Arrivals:
    """When each event was published, seen on the bus, and seen in the read model."""

    published: dict[uuid.UUID, float] = field(default_factory=dict)
    on_bus: dict[uuid.UUID, float] = field(default_factory=dict)
    in_model: dict[uuid.UUID, float] = field(default_factory=dict)

    def latencies(self, seen: dict[uuid.UUID, float]) -> list[float]:
        return [(seen[i] - at) * 1000 for i, at in self.published.items() if i in seen]


async def watch_bus(client: NatsClient, arrivals: Arrivals) -> list[Any]:
    async def seen(msg: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            arrivals.on_bus.setdefault(uuid.UUID(msg.headers["Nats-Msg-Id"]), time.perf_counter())

    return [
        await client.subscribe(subject, cb=seen)
        for subject in ("matching.>", "booking.>", "notify.>")
    ]


async def poll_inbox(conn: asyncpg.Connection, schema: str, arrivals: Arrivals) -> None:
    while True:
        waiting = [i for i in arrivals.published if i not in arrivals.in_model]
        if waiting:
            rows = await conn.fetch(
                f"SELECT event_id FROM {schema}.inbox WHERE event_id = ANY($1::uuid[])", waiting
            )
            now = time.perf_counter()
            for row in rows:
                arrivals.in_model[row["event_id"]] = now
        await asyncio.sleep(0.01)


async def publish_steadily(
    client: NatsClient, events: list[Envelope[Any]], arrivals: Arrivals
) -> None:
    started = time.perf_counter()
    pending: list[asyncio.Task[Any]] = []
    for index, event in enumerate(events):
        due = started + index / EVENTS_PER_SECOND
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        arrivals.published[event.id] = time.perf_counter()
        pending.append(asyncio.create_task(publish(client, event)))
    await asyncio.gather(*pending)


def cpu_seconds(processes: list[ServiceProcess]) -> float:
    total = 0.0
    for process in processes:
        assert process.process is not None
        times = psutil.Process(process.process.pid).cpu_times()
        total += times.user + times.system
    return total


async def lag_figures(
    stack: StackInfo, dsn: str, schema: str, region: Region, consoles: list[ServiceProcess]
) -> list[Figure]:
    rng = random.Random(5)
    events = event_mix(region, rng, EVENTS_PER_SECOND * LAG_SECONDS)
    arrivals = Arrivals()
    client = await nats.connect(stack.nats_url)
    conn = await asyncpg.connect(dsn)
    poller = asyncio.create_task(poll_inbox(conn, schema, arrivals))
    cpu_before = cpu_seconds(consoles)
    try:
        subscriptions = await watch_bus(client, arrivals)
        await publish_steadily(client, events, arrivals)
        deadline = time.monotonic() + 60
        while len(arrivals.in_model) < len(events) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        for subscription in subscriptions:
            await subscription.unsubscribe()
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        await conn.close()
        await client.close()
    cpu_ms = (cpu_seconds(consoles) - cpu_before) * 1000 / len(events)
    load = os.getloadavg()[0]
    model = arrivals.latencies(arrivals.in_model)
    bus = arrivals.latencies(arrivals.on_bus)
    missing = len(events) - len(model)
    note = (
        f"{len(events)} events over {LAG_SECONDS} s across matching, booking and notify; "
        f"p50 {median(model):.0f} ms, p95 {percentile(model, 95):.0f} ms, "
        f"max {max(model, default=float('nan')):.0f} ms; {REPLICAS} console processes; "
        f"baseline: the same events on a plain NATS subscription; load average {load:.1f}"
    )
    if missing:
        note += f"; {missing} NOT ARRIVED within 60 s"
    return [
        Figure(
            "console_event_to_read_model_p99",
            percentile(model, 99) if not missing else float("inf"),
            "ms",
            baseline=percentile(bus, 99),
            goal="<= 1000 ms at 200 events/s",
            note=note,
        ),
        Figure(
            "console_cpu_per_event",
            cpu_ms,
            "ms",
            note=(
                f"CPU of the {REPLICAS} console processes per event applied (all of their work "
                f"meanwhile); 200 events/s need {cpu_ms * EVENTS_PER_SECOND / 1000:.2f} cores; "
                f"load average {load:.1f} on {os.cpu_count()} cores"
            ),
        ),
    ]


# ---- run -------------------------------------------------------------------------------------


async def forget_console_positions(stack: StackInfo) -> None:
    client = await nats.connect(stack.nats_url)
    js = client.jetstream()
    try:
        for spec in CONSOLE_CONSUMERS:
            with contextlib.suppress(NotFoundError):
                await js.delete_consumer(spec.stream.name, spec.durable)
    finally:
        await client.close()


async def start_consoles(stack: StackInfo, schema: str) -> list[ServiceProcess]:
    env = {
        key: value
        for key, value in stack.service_env("CONSOLE_").items()
        if "OIDC" not in key  # pages without sign-in: the service token stands in for staff
    }
    env |= {
        "CONSOLE_DB_SCHEMA": schema,
        "CONSOLE_STAFF_TOKEN": "bench",
        "CONSOLE_LOG_LEVEL": "WARNING",
        "CONSOLE_DB_POOL_MAX": "8",  # as deployed
    }
    consoles = [
        ServiceProcess("services.console", env, "CONSOLE_HTTP_PORT") for _ in range(REPLICAS)
    ]
    await asyncio.gather(*(console.start(timeout=180) for console in consoles))
    return consoles


async def run(context: BenchContext) -> list[Figure]:
    stack = context.stack()
    await fresh_streams(stack)
    await forget_console_positions(stack)
    schema = f"bench_console_{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, schema, migrations_for(MIGRATIONS))
        seeding = time.perf_counter()
        region = await seed(conn, schema, now)
        seeded_s = time.perf_counter() - seeding
    finally:
        await conn.close()
    consoles = await start_consoles(stack, schema)
    try:
        figures = await page_figures(consoles[0].base_url, region, now)
        figures += await lag_figures(stack, stack.database_url, schema, region, consoles)
    except Exception:
        print(consoles[0].logs()[-4000:], flush=True)
        raise
    finally:
        for console in consoles:
            console.stop()
    load = os.getloadavg()
    figures.append(
        Figure(
            "console_seed_seconds",
            seeded_s,
            "s",
            note=f"COPY of the region; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        )
    )
    return figures

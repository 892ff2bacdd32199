"""The main job end to end: match accepted -> meeting booked -> invite accepted by the SMTP sink.

All three services run as their own processes (notify with two replicas, one per core), on the
embedded NATS and PostgreSQL, with the SMTP and SMS sinks in processes of their own. Each
accepted match carries its own addresses, so the sink's receipt time of each invite (its file
name is the nanosecond clock) tells when that meeting's invites arrived.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.common import BenchContext, Figure, SinkProcess, fresh_streams, median, percentile
from shared.events.base import Envelope, wrap
from shared.events.common import Contact, Party, PartyKind, ServiceType
from shared.events.matching import MatchAccepted, NeedSummary
from tests.support.harness import ServiceProcess, nats_client, publish
from werkbank.stack import StackInfo

THROUGHPUT_MEETINGS = 1500
STEADY_RATE = 50  # meetings per second
STEADY_SECONDS = 10
TOKEN = "bench"
ROOMS = 60
REPLICAS = {"matching": 1, "booking": 1, "notify": 2}
# The figures come from the sink's receipt times; scanning its folder only collects them, and
# rarely, so that the bench takes little of the CPU the services share with it.
SCAN_SECONDS = 0.5


def accepted(run: str, index: int) -> Envelope[MatchAccepted]:
    company_id, provider_id = f"co-{run}-{index}", f"p-{run}-{index}"
    return wrap(
        MatchAccepted(
            match_id=f"match-{run}-{index}",
            proposal_id=f"prop-{run}-{index}",
            run_id=f"run-{run}",
            need=NeedSummary(
                need_id=f"need-{run}-{index}",
                title="Chat-Kanal für Stammkunden",
                description="Einfacher Chat für Bestellungen statt Onlineshop",
                categories=("market.chat",),
                service_type=ServiceType.FIRST_ADVICE,
            ),
            company=Party(
                party_id=company_id,
                kind=PartyKind.COMPANY,
                name=f"Baustoffe {index}",
                contacts=(
                    Contact(
                        contact_id=f"{company_id}-1",
                        name="Petra Schulte",
                        email=f"m{index}.co@{run}.example.org",
                        phone=f"+49151{40000000 + index}",
                        sms_consent=True,
                    ),
                ),
            ),
            provider=Party(
                party_id=provider_id,
                kind=PartyKind.PROVIDER,
                name=f"ChatWerk {index}",
                contacts=(
                    Contact(
                        contact_id=f"{provider_id}-1",
                        name="Aylin Demir",
                        email=f"m{index}.pr@{run}.example.org",
                        locale="en",
                    ),
                ),
            ),
            accepted_by="bench",
        ),
        source="matching",
    )


class Arrivals:
    """When the SMTP sink accepted the invites of each meeting, read from its file names."""

    def __init__(self, folder: Path, run: str) -> None:
        self.folder, self.run = folder, run
        self._seen: set[str] = set()
        self.invites: dict[int, list[float]] = {}

    def scan(self) -> int:
        for path in self.folder.glob("*.eml"):
            if path.name in self._seen:
                continue
            self._seen.add(path.name)
            head = path.read_bytes()[:4096].decode("utf-8", "replace")
            marker = f"@{self.run}.example.org"
            for line in head.splitlines():
                if line.startswith("X-Sink-Recipient:") and marker in line:
                    index = int(line.split(":", 1)[1].strip().split(".")[0].removeprefix("m"))
                    accepted_ns = int(path.name.split("-", 1)[0])
                    self.invites.setdefault(index, []).append(accepted_ns / 1e9)
        return sum(1 for times in self.invites.values() if len(times) >= 2)

    def completed_at(self, index: int) -> float | None:
        times = self.invites.get(index, [])
        return max(times) if len(times) >= 2 else None


class RssWatch:
    """Peak resident memory of each service, all its replicas counted separately."""

    def __init__(self, services: dict[str, list[ServiceProcess]]) -> None:
        self.processes = {
            name: [psutil.Process(p.process.pid) for p in replicas if p.process is not None]
            for name, replicas in services.items()
        }
        self.peak_mb: dict[str, float] = dict.fromkeys(services, 0.0)

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for name, processes in self.processes.items():
                for process in processes:
                    rss = process.memory_info().rss / 2**20
                    self.peak_mb[name] = max(self.peak_mb[name], rss)
            await asyncio.sleep(0.2)


async def start_services(
    stack: StackInfo, smtp: SinkProcess, sms: SinkProcess, *, ready_timeout: float = 30.0
) -> dict[str, list[ServiceProcess]]:
    suffix = uuid.uuid4().hex[:6]
    replicas = REPLICAS
    services: dict[str, list[ServiceProcess]] = {}
    for name, count in replicas.items():
        prefix = f"{name.upper()}_"
        env = {
            **stack.service_env(prefix),
            f"{prefix}DB_SCHEMA": f"bench_e2e_{name}_{suffix}",
            f"{prefix}STAFF_TOKEN": TOKEN,
            f"{prefix}STATIC_TOKEN_ENABLED": "true",
            f"{prefix}LOG_LEVEL": "WARNING",
            "NOTIFY_SMTP_HOST": smtp.host,
            "NOTIFY_SMTP_PORT": str(smtp.port),
            "NOTIFY_SMS_GATEWAY_URL": sms.url,
            "NOTIFY_QUIET_HOURS_START": "00:00",
            "NOTIFY_QUIET_HOURS_END": "00:00",
            "BOOKING_RSVP_SECRET": "bench-secret",
            "BOOKING_HORIZON_DAYS": "120",
        }
        services[name] = [
            ServiceProcess(f"services.{name}", env, f"{prefix}HTTP_PORT") for _ in range(count)
        ]
        await asyncio.gather(*(p.start(timeout=ready_timeout) for p in services[name]))
    return services


async def add_rooms(booking: ServiceProcess) -> None:
    """Enough rooms that the venue is not what limits the rate."""
    venue: dict[str, Any] = {
        "name": "Digitale Werkbank",
        "address": "Königswall 21, 44137 Dortmund",
        "rooms": [{"room_id": f"raum-{i}", "name": f"Raum {i}"} for i in range(ROOMS)],
    }
    async with httpx.AsyncClient(base_url=booking.base_url, timeout=30) as client:
        answer = await client.put(
            "/api/booking/venues/werkbank", json=venue, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        answer.raise_for_status()


async def throughput(stack: StackInfo, arrivals: Arrivals, count: int) -> tuple[float, int]:
    """Sustained meetings per second, from the sink's receipt times: from the meeting that
    completed a tenth of them to the last one, so that start-up is excluded."""
    events = [accepted(arrivals.run, index) for index in range(count)]
    async with nats_client(stack.nats_url) as client:
        await asyncio.gather(*(publish(client, event) for event in events))
    deadline = time.time() + 120
    while arrivals.scan() < count and time.time() < deadline:  # noqa: ASYNC110 - another process
        await asyncio.sleep(SCAN_SECONDS)
    done = sorted(t for i in range(count) if (t := arrivals.completed_at(i)) is not None)
    first_tenth = count // 10
    if len(done) <= first_tenth:
        return 0.0, len(done)
    return (len(done) - first_tenth) / max(done[-1] - done[first_tenth - 1], 1e-9), len(done)


async def steady_latency(stack: StackInfo, arrivals: Arrivals) -> list[float]:
    """Publish at a steady rate; latency per meeting until both its invites were accepted."""
    total = STEADY_RATE * STEADY_SECONDS
    sent: dict[int, float] = {}
    async with nats_client(stack.nats_url) as client:
        started = time.time()
        for index in range(total):
            due = started + index / STEADY_RATE
            await asyncio.sleep(max(0.0, due - time.time()))
            sent[index] = time.time()
            await publish(client, accepted(arrivals.run, index))
    deadline = time.time() + 60
    while arrivals.scan() < total and time.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(SCAN_SECONDS)
    return [
        (done - sent[index]) * 1000
        for index in range(total)
        if (done := arrivals.completed_at(index)) is not None
    ]


async def run(context: BenchContext) -> list[Figure]:
    stack = context.stack()
    await fresh_streams(stack)
    folder = Path(stack.root) / f"bench-e2e-{uuid.uuid4().hex[:6]}"
    smtp = SinkProcess("smtp", folder / "mail")
    sms = SinkProcess("sms", folder / "sms.jsonl")
    services = await start_services(stack, smtp, sms)
    watch = RssWatch(services)
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch.watch(stop))
    try:
        await add_rooms(services["booking"][0])
        rate, completed = await throughput(
            stack, Arrivals(smtp.path, uuid.uuid4().hex[:8]), THROUGHPUT_MEETINGS
        )
        latencies = await steady_latency(stack, Arrivals(smtp.path, uuid.uuid4().hex[:8]))
    finally:
        stop.set()
        await watcher
        for replicas in services.values():
            for process in replicas:
                process.stop()
        smtp.stop()
        sms.stop()
    total = STEADY_RATE * STEADY_SECONDS
    return [
        Figure(
            "e2e_meetings_per_s",
            rate,
            "meetings/s",
            goal=">= 150/s",
            note=f"{completed} of {THROUGHPUT_MEETINGS} match accepted events -> meetings -> both "
            "invites accepted by the SMTP sink within 2 min; booking x1, notify x2, one machine",
        ),
        Figure(
            "e2e_latency_p50_at_50_per_s",
            median(latencies),
            "ms",
            note=f"{len(latencies)} of {total} meetings complete",
        ),
        Figure("e2e_latency_p99_at_50_per_s", percentile(latencies, 99), "ms", goal="<= 250 ms"),
        *(
            Figure(f"e2e_peak_rss_{name}", peak, "MB", goal="<= 200 MB", note="per process")
            for name, peak in watch.peak_mb.items()
        ),
    ]

"""``make chaos``: accepted matches keep coming while every part of the system fails in turn.

The embedded stack and the three services run as processes; matches are accepted at a steady
rate (and once in a burst). Then, one after the other: SIGKILL of booking, notify and matching
(each restarted), kill -9 of nats-server (restarted on its store), a PostgreSQL restart, and
20 s without SMTP, then without SMS. At the end a table says what was accepted, booked, lost,
duplicated and dead-lettered, how long the backlog took to drain, and the latency before and
after. The exit status is 0 only if nothing was lost, nothing overlaps, duplicates stay within
one per crash, and latency is back to normal within 60 s of the last fault.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import nats
from nats.aio.client import Client as NatsClient

from bench.bench_e2e import Arrivals, accepted, add_rooms, start_services
from bench.common import SinkProcess
from tests.support.harness import ServiceProcess, publish
from werkbank.stack import EmbeddedStack, wait_for_port

RATE = 8  # accepted matches per second, all the time
BURST = 200
BASELINE_SECONDS = 15
SETTLE_SECONDS = 12
OUTAGE_SECONDS = 20
RECOVERY_SECONDS = 60
READY_SECONDS = 120  # the machine may be busy
CRASHES = ("booking", "notify", "matching")


@dataclass
class Run:
    stack: EmbeddedStack
    services: dict[str, list[ServiceProcess]]
    smtp: SinkProcess
    sms: SinkProcess
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    sent: dict[int, float] = field(default_factory=dict)
    faults: list[tuple[str, float, float]] = field(default_factory=list)
    recovered: int = 0
    publishing: bool = True

    @property
    def arrivals(self) -> Arrivals:
        return self._arrivals

    def __post_init__(self) -> None:
        self._arrivals = Arrivals(self.smtp.path, self.run)


async def publisher(run: Run) -> None:
    """Publishes accepted matches at ``RATE`` per second, retrying while NATS is away."""
    client = await nats.connect(run.stack.nats.url, max_reconnect_attempts=-1)
    index = 0
    started = time.time()
    try:
        while run.publishing:
            await asyncio.sleep(max(0.0, started + index / RATE - time.time()))
            await _publish_surely(client, run, index)
            index += 1
    finally:
        await client.close()


async def _publish_surely(client: NatsClient, run: Run, index: int) -> None:
    event = accepted(run.run, index)
    run.sent.setdefault(index, time.time())
    while True:
        try:
            await publish(client, event)
            return
        except Exception:  # NATS is down: the same id again later is a duplicate at most
            await asyncio.sleep(0.5)


async def burst(run: Run) -> None:
    client = await nats.connect(run.stack.nats.url)
    try:
        first = 1_000_000
        await asyncio.gather(*(_publish_surely(client, run, first + i) for i in range(BURST)))
    finally:
        await client.close()


async def ready(process: ServiceProcess, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=process.base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)
    return False


async def all_ready(run: Run) -> bool:
    checks = [ready(p) for replicas in run.services.values() for p in replicas]
    return all(await asyncio.gather(*checks))


async def fault(run: Run, name: str, inject: Callable[[], Awaitable[None]]) -> None:
    print(f"  fault: {name}", flush=True)
    began = time.time()
    await inject()
    run.faults.append((name, began, time.time()))
    if await all_ready(run):
        run.recovered += 1
    await asyncio.sleep(SETTLE_SECONDS)


def sigkill(run: Run, name: str) -> Callable[[], Awaitable[None]]:
    async def inject() -> None:
        process = run.services[name][0]
        process.kill()
        await process.start(timeout=READY_SECONDS)

    return inject


def kill_nats(run: Run) -> Callable[[], Awaitable[None]]:
    async def inject() -> None:
        server = run.stack.nats
        assert server.process is not None
        server.process.kill()
        server.process.wait()
        await asyncio.sleep(2)
        await asyncio.to_thread(server.start)  # the same port, the same store

    return inject


def restart_postgres(run: Run) -> Callable[[], Awaitable[None]]:
    async def inject() -> None:
        await asyncio.to_thread(run.stack.postgres.restart)

    return inject


def outage(sink: SinkProcess) -> Callable[[], Awaitable[None]]:
    async def inject() -> None:
        sink.stop()
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(_restart_sink, sink)

    return inject


def _restart_sink(sink: SinkProcess) -> None:
    """The same sink again, on its port and its files."""
    sink.process = subprocess.Popen(
        [sys.executable, "-m", "werkbank.sinks", sink.kind, str(sink.path), str(sink.port)]
    )
    wait_for_port(sink.host, sink.port)


def latencies(run: Run, since: float, until: float) -> list[float]:
    return [
        done - sent
        for index, sent in run.sent.items()
        if since <= sent < until and (done := run.arrivals.completed_at(index)) is not None
    ]


@dataclass
class Outcome:
    rows: list[tuple[str, str]]
    ok: bool


async def tally(run: Run, before: float, after: float, drained: float | None) -> Outcome:
    info = run.stack.info
    assert info is not None
    booking = run.services["booking"][0].env["BOOKING_DB_SCHEMA"]
    conn = await asyncpg.connect(info.database_url)
    try:
        booked: int = await conn.fetchval(
            f"SELECT count(*) FROM {booking}.meetings WHERE match_id LIKE $1",
            f"match-{run.run}-%",
        )
        overlaps: int = await conn.fetchval(
            f"SELECT count(*) FROM {booking}.allocations x JOIN {booking}.allocations y "
            "ON x.resource_key = y.resource_key AND x.meeting_id < y.meeting_id "
            "AND x.span && y.span WHERE x.live AND y.live"
        )
    finally:
        await conn.close()
    invites = run.arrivals.invites
    lost_invites = sum(max(0, 2 - len(invites.get(index, []))) for index in run.sent)
    duplicate_emails = sum(max(0, len(times) - 2) for times in invites.values())
    sms = _sms_by_phone(run)
    phones = {f"+49151{40000000 + index}" for index in run.sent}
    lost_sms = len(phones - set(sms))
    duplicate_sms = sum(count - 1 for count in sms.values() if count > 1)
    dead = await _dead_letters(info.nats_url)
    crashes = len(CRASHES) + 2  # the services, nats-server, PostgreSQL
    accepted_count = len(run.sent)
    recovered_in_time = after <= max(2 * before, before + 0.25)
    ok = (
        booked == accepted_count
        and lost_invites == 0
        and lost_sms == 0
        and overlaps == 0
        and duplicate_emails + duplicate_sms <= crashes
        and recovered_in_time
        and drained is not None
    )
    rows = [
        ("accepted matches", str(accepted_count)),
        ("booked meetings", str(booked)),
        ("overlapping allocations", str(overlaps)),
        ("lost invites", str(lost_invites)),
        ("duplicate emails", f"{duplicate_emails} (for {crashes} crashes)"),
        ("lost SMS", str(lost_sms)),
        ("duplicate SMS", str(duplicate_sms)),
        ("dead letters", str(dead)),
        ("faults recovered", f"{run.recovered} of {len(run.faults)}"),
        ("time to drain", f"{drained:.1f} s" if drained is not None else "not drained"),
        ("latency p50 before", f"{before * 1000:.0f} ms"),
        ("latency p50 after", f"{after * 1000:.0f} ms (from 30 s to 60 s after the last fault)"),
    ]
    return Outcome(rows, ok)


def _sms_by_phone(run: Run) -> Counter[str]:
    counts: Counter[str] = Counter()
    if run.sms.path.exists():
        for line in run.sms.path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if str(record.get("to", "")).startswith("+49151"):
                counts[record["to"]] += 1
    return counts


async def _dead_letters(url: str) -> int:
    client = await nats.connect(url)
    try:
        info = await client.jetstream().stream_info("DEADLETTER")
        return int(info.state.messages)
    finally:
        await client.close()


async def wait_complete(run: Run, timeout: float) -> bool:
    """Wait until every match sent has both its invites."""
    started = time.time()
    while time.time() - started < timeout:
        await asyncio.to_thread(run.arrivals.scan)
        if all(run.arrivals.completed_at(index) is not None for index in list(run.sent)):
            return True
        await asyncio.sleep(1.0)
    return False


def drain_seconds(run: Run, last_fault: float) -> float | None:
    """From the end of the last fault until every match sent before it had its invites."""
    done = [run.arrivals.completed_at(i) for i, sent in run.sent.items() if sent < last_fault]
    if any(at is None for at in done):
        return None
    return max(0.0, max(at for at in done if at is not None) - last_fault)


async def chaos() -> int:
    stack = EmbeddedStack()
    info = stack.start()
    folder = Path(info.root) / "chaos"
    smtp = SinkProcess("smtp", folder / "mail")
    sms = SinkProcess("sms", folder / "sms.jsonl")
    services = await start_services(info, smtp, sms, ready_timeout=READY_SECONDS)
    run = Run(stack, services, smtp, sms)
    try:
        await add_rooms(services["booking"][0])
        sender = asyncio.create_task(publisher(run))
        await asyncio.sleep(BASELINE_SECONDS)
        baseline_end = time.time()
        await burst(run)
        for name in CRASHES:
            await fault(run, f"SIGKILL {name}", sigkill(run, name))
        await fault(run, "kill -9 nats-server", kill_nats(run))
        await fault(run, "restart PostgreSQL", restart_postgres(run))
        await fault(run, "SMTP down 20 s", outage(smtp))
        await fault(run, "SMS gateway down 20 s", outage(sms))
        last_fault = run.faults[-1][2]
        await asyncio.sleep(max(0.0, last_fault + RECOVERY_SECONDS - time.time()))
        run.publishing = False
        await sender
        await wait_complete(run, timeout=120)
        before = statistics.median(latencies(run, 0, baseline_end) or [float("nan")])
        after = statistics.median(
            latencies(run, last_fault + 30, last_fault + RECOVERY_SECONDS) or [float("inf")]
        )
        outcome = await tally(run, before, after, drain_seconds(run, last_fault))
    finally:
        for replicas in services.values():
            for process in replicas:
                process.stop()
        smtp.stop()
        sms.stop()
        stack.stop()
        stack.remove()
    print_table(run, outcome)
    return 0 if outcome.ok else 1


def print_table(run: Run, outcome: Outcome) -> None:
    faults = ", ".join(name for name, _, _ in run.faults)
    width = max(len(name) for name, _ in outcome.rows)
    print(f"\nchaos run {run.run}: {faults}")
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in outcome.rows:
        print(f"| {name.ljust(width)} | {value} |")
    print("\nCHAOS " + ("PASSED" if outcome.ok else "FAILED"))


def main() -> None:
    sys.exit(asyncio.run(chaos()))


if __name__ == "__main__":
    main()

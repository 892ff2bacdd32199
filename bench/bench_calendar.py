"""Calendar figures (issue 14): calendar clients' replies read from the real IMAP server (pymap)
into RSVP state, and the slot search with providers' own calendars.

Replies: 500 meetings are booked, then 1000 REPLY mails (ACCEPTED or TENTATIVE, in the four
clients' formats) are APPENDed to a fresh folder of the stack's pymap; the figure is the rate
at which one replica's reply loop (``read_new_mails``, as ``reply_loop`` calls it) turns them
into answers, moves them and advances the cursor. The baseline, in the same run, fetches the
same mails from the same server in the same batches and parses each calendar object: IMAP and
parsing, no database.

Slot search: a venue with 10 rooms booked solid at one meeting in three for a year, providers
with 50 busy blocks a week from their own calendars (expanded by ``busy_times``) in the busy
index; the figure is the p50 of ``find_slots`` for one provider and company. The baseline is the
same search without the provider's calendar.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import cast

import asyncpg
from imapclient import IMAPClient
from pydantic import SecretStr

from bench.common import BenchContext, Figure, median, percentile
from services.booking import service
from services.booking.app import build
from services.booking.domain.calendar import (
    BERLIN,
    BusyIndex,
    Interval,
    MeetingType,
    Room,
    Venue,
    find_slots,
)
from services.booking.domain.freebusy import busy_times
from services.booking.domain.imip import read_reply
from services.booking.inbound import repository as inbound_repository
from services.booking.inbound.loop import read_new_mails
from services.booking.inbound.mailbox import Mailbox
from services.booking.settings import BookingSettings
from shared.db import create_pool, transaction
from shared.events.base import wrap
from shared.events.booking import MeetingDetails
from shared.migrations import migrate, migrations_for
from shared.service import ServiceRuntime
from tests.booking.test_booking_flow import match_accepted
from tests.support.imip_samples import Answer, mail
from werkbank.stack import StackInfo

MEETINGS = 500
CLIENTS = ("outlook", "google", "apple", "thunderbird")
SECRET = b"bench"
ORGANIZER = "werkbank@wirtschaftsfoerderung-dortmund.de"


def reply_settings(stack: StackInfo, schema: str) -> BookingSettings:
    return BookingSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        db_schema=schema,
        rsvp_secret=SecretStr("bench"),
        public_base_url="http://booking.bench",
        imap_host=stack.imap_host,
        imap_port=stack.imap_port,
        imap_user=stack.imap_user,
        imap_password=SecretStr(stack.imap_password),
        imap_tls=False,
        imap_folder=f"{schema}-in",
        imap_processed_folder=f"{schema}-done",
        minimum_notice_hours=1,
        horizon_days=365,
    )


async def book_meetings(pool: asyncpg.Pool, settings: BookingSettings) -> list[bytes]:
    """Books the meetings; one reply mail per attendee."""
    now = datetime.now(UTC)
    envelopes = [
        wrap(match_accepted(f"p-{i % 50}", company_id=f"co-{i}"), source="matching")
        for i in range(MEETINGS)
    ]
    booked = []
    for at in range(0, MEETINGS, 100):
        async with transaction(pool) as conn:
            outcomes = await service.book_group(
                conn, "bench", envelopes[at : at + 100], settings, SECRET, now
            )
        booked += [o for o in outcomes if isinstance(o, MeetingDetails)]
    assert len(booked) == MEETINGS
    mails: list[bytes] = []
    for n, details in enumerate(booked):
        for attendee in details.attendees:
            answer = Answer(
                uid=f"{details.meeting_id}@werkbank",
                attendee=str(attendee.contact.email),
                attendee_name=attendee.contact.name,
                organizer=ORGANIZER,
                start=details.start,
                partstat="TENTATIVE" if n % 3 == 0 else "ACCEPTED",
            )
            mails.append(mail(CLIENTS[len(mails) % len(CLIENTS)], answer))
    return mails


def imap_client(stack: StackInfo) -> IMAPClient:
    client = IMAPClient(stack.imap_host, port=stack.imap_port, ssl=False, timeout=60)
    client.login(stack.imap_user, stack.imap_password)
    return client


def deliver(stack: StackInfo, folder: str, mails: list[bytes]) -> None:
    """Into a folder of its own on the stack's IMAP server (pymap)."""
    with imap_client(stack) as client:
        client.create_folder(folder)
        for raw in mails:
            client.append(folder, raw)


async def reply_rate(stack: StackInfo) -> tuple[float, float, dict[str, int]]:
    """(replies/s through booking, mails/s fetched and parsed only, outcomes)."""
    schema = f"bench_replies_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(stack.database_url)
    await migrate(conn, schema, migrations_for(build().migrations))
    await conn.close()
    settings = reply_settings(stack, schema)
    pool = await create_pool(stack.database_url, schema, max_size=4)
    try:
        mails = await book_meetings(pool, settings)
        await asyncio.to_thread(deliver, stack, settings.imap_folder, mails)
        baseline = await asyncio.to_thread(raw_rate, stack, settings, len(mails))
        rate = await booking_rate(pool, settings, len(mails))
        async with transaction(pool) as conn:
            outcomes = await inbound_repository.outcomes(conn)
    finally:
        await pool.close()
    return rate, baseline, outcomes


async def booking_rate(pool: asyncpg.Pool, settings: BookingSettings, expected: int) -> float:
    runtime = cast(
        ServiceRuntime,
        SimpleNamespace(settings=settings, pool=pool, state={"rsvp_secret": SECRET}),
    )
    mailbox = Mailbox(settings)
    await asyncio.to_thread(mailbox.open)
    try:
        started = time.perf_counter()
        read = 0
        while read < expected:
            got = await read_new_mails(runtime, mailbox)
            if got == 0:
                break
            read += got
        elapsed = time.perf_counter() - started
    finally:
        mailbox.abandon()
    assert read == expected, (read, expected)
    return read / elapsed


def raw_rate(stack: StackInfo, settings: BookingSettings, expected: int) -> float:
    """The same mails fetched (read-only) in the same batches and parsed."""
    with imap_client(stack) as client:
        client.select_folder(settings.imap_folder, readonly=True)
        started = time.perf_counter()
        uids = sorted(client.search(["ALL"]))
        read = 0
        for at in range(0, len(uids), settings.imap_batch):
            batch = uids[at : at + settings.imap_batch]
            for data in client.fetch(batch, [b"BODY.PEEK[]"]).values():
                read_reply(data[b"BODY[]"])
                read += 1
        elapsed = time.perf_counter() - started
    assert read == expected, (read, expected)
    return read / elapsed


def provider_calendar(rng: random.Random, start: datetime, weeks: int) -> str:
    """A provider's own calendar: 50 blocks a week (30 to 90 minutes, 07:00 to 20:00, any day)."""
    events = []
    for week in range(weeks):
        for n in range(50):
            minute = rng.randrange(7 * 60, 19 * 60, 15)
            begins = start + timedelta(weeks=week, days=rng.randrange(7), minutes=minute)
            ends = begins + timedelta(minutes=rng.choice((30, 45, 60, 90)))
            events.append(
                f"BEGIN:VEVENT\r\nUID:w{week}-{n}@anbieter\r\nDTSTAMP:20260101T000000Z\r\n"
                f"DTSTART;TZID=Europe/Berlin:{begins:%Y%m%dT%H%M%S}\r\n"
                f"DTEND;TZID=Europe/Berlin:{ends:%Y%m%dT%H%M%S}\r\nEND:VEVENT\r\n"
            )
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bench//DE\r\n"
        + "".join(events)
        + "END:VCALENDAR\r\n"
    )


def slot_search_times(samples: int = 200) -> tuple[float, float, float]:
    """(p50 with the providers' calendars, p90 with them, p50 without them), in seconds."""
    rng = random.Random(14)
    now = datetime(2027, 1, 4, 7, tzinfo=BERLIN)
    rooms = tuple(Room(f"r{i}", f"Raum {i}") for i in range(10))
    venue = Venue("bench", "Bench-Werkbank", "Königswall 21", rooms=rooms)
    kind = MeetingType(horizon=timedelta(days=42))
    year: dict[str, list[Interval]] = {}
    day = now
    for _ in range(365):
        for hour in (9, 12, 15):  # the rooms booked at one meeting in three
            start = day.replace(hour=hour)
            for room in rooms:
                year.setdefault(f"room:{room.room_id}", []).append(
                    (start, start + timedelta(hours=1))
                )
        day += timedelta(days=1)
    until = now + timedelta(days=60)
    providers = [f"p{i}" for i in range(20)]
    monday = now.replace(hour=0)
    external = {
        f"provider:{p}": busy_times([provider_calendar(rng, monday, 9)], now, until)
        for p in providers
    }
    with_calendars, without = BusyIndex({**year, **external}), BusyIndex(year)
    timings: dict[str, list[float]] = {"with": [], "without": []}
    for n in range(samples):
        provider = providers[n % len(providers)]
        people = [f"provider:{provider}", f"company:c{n}"]
        for name, index in (("with", with_calendars), ("without", without)):
            began = time.perf_counter()
            found = find_slots(venue, kind, now, index, people, count=3, room_offset=n)
            timings[name].append(time.perf_counter() - began)
            assert found, name
    return (
        median(timings["with"]),
        percentile(timings["with"], 90),
        median(timings["without"]),
    )


async def run(context: BenchContext) -> list[Figure]:
    stack = context.stack()
    rate, baseline, outcomes = await reply_rate(stack)
    print(f"# imip replies: {rate:.1f}/s, outcomes {outcomes}", flush=True)
    p50, p90, plain = slot_search_times()
    return [
        Figure(
            "booking_imip_replies_per_s",
            rate,
            "mails/s",
            baseline=baseline,
            goal=">= 100/s",
            note=f"{2 * MEETINGS} REPLY mails from pymap into RSVP state, one replica; "
            "baseline: the same IMAP fetches and parsing, no database",
        ),
        Figure(
            "booking_slot_search_with_calendars_p50_ms",
            p50 * 1000,
            "ms",
            baseline=plain * 1000,
            goal="<= 10 ms",
            note=f"p90={p90 * 1000:.2f} ms; 10 rooms with a year of meetings, 50 busy blocks a "
            "week per provider; baseline: the same search without the providers' calendars",
        ),
    ]

"""Fetching providers' busy times: on a schedule, and before booking for the providers about to
be booked. A calendar that fails keeps its last busy times in use (stale while it fails), is
counted, and shows as failing to staff; it never holds up booking for longer than its time-out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from prometheus_client import Counter, Gauge

from services.booking.calendars import client
from services.booking.calendars import repository as calendars
from services.booking.calendars.repository import CalendarSource
from services.booking.domain.freebusy import UnreadableCalendarError, busy_times
from services.booking.settings import BookingSettings
from shared.db import transaction

log = logging.getLogger(__name__)

FETCHES = Counter(
    "werkbank_booking_provider_calendar_fetches_total",
    "Fetches of providers' calendars, by outcome",
    ["outcome"],
)
FAILING = Gauge(
    "werkbank_booking_provider_calendars_failing",
    "Providers' calendars whose last fetch failed (their older busy times are in use)",
)
PARALLEL = 8  # calendars fetched at once


def password_of(settings: BookingSettings, source: CalendarSource) -> str | None:
    if source.secret_ref is None:
        return None
    secret = settings.calendar_secrets.get(source.secret_ref)
    return None if secret is None else secret.get_secret_value()


def window(settings: BookingSettings, now: datetime) -> tuple[datetime, datetime]:
    """The times the slot search can look at (with a day to spare on both sides)."""
    return now - timedelta(days=1), now + timedelta(days=settings.horizon_days + 2)


async def refresh(
    pool: asyncpg.Pool, settings: BookingSettings, sources: Iterable[CalendarSource]
) -> None:
    """Fetches each calendar and stores its busy times, or records why it failed."""
    sources = list(sources)
    if not sources:
        return
    gate = asyncio.Semaphore(PARALLEL)
    async with client.session(settings.calendar_timeout_seconds) as http:

        async def one(source: CalendarSource) -> None:
            async with gate:
                await _refresh_one(pool, http, settings, source)

        await asyncio.gather(*(one(source) for source in sources))
    async with transaction(pool) as conn:
        FAILING.set(await calendars.failing_count(conn))


async def _refresh_one(
    pool: asyncpg.Pool, http: httpx.AsyncClient, settings: BookingSettings, source: CalendarSource
) -> None:
    now = datetime.now(UTC)
    since, until = window(settings, now)
    try:
        texts = await client.calendar_texts(
            http,
            source,
            password_of(settings, source),
            since,
            until,
            timeout=settings.calendar_timeout_seconds,
            max_bytes=settings.calendar_max_bytes,
        )
        busy = await asyncio.to_thread(busy_times, texts, since, until)
    except (client.CalendarUnavailableError, UnreadableCalendarError) as exc:
        FETCHES.labels("failed").inc()
        log.warning(
            "provider calendar failed; its last busy times stay in use",
            extra={"provider_id": source.provider_id, "reason": str(exc)},
        )
        async with transaction(pool) as conn:
            await calendars.record_failure(conn, source.provider_id, str(exc), now)
        return
    FETCHES.labels("fetched").inc()
    async with transaction(pool) as conn:
        await calendars.store_busy(conn, source.provider_id, busy, now)


async def refresh_due(pool: asyncpg.Pool, settings: BookingSettings, limit: int = 50) -> int:
    """The calendars not tried for a refresh period, claimed so that replicas share them."""
    async with transaction(pool) as conn:
        due = await calendars.claim_due(
            conn,
            settings.calendar_refresh_seconds,
            settings.calendar_timeout_seconds * 4 + 30,
            limit,
        )
    await refresh(pool, settings, due)
    return len(due)


async def refresh_before_booking(
    pool: asyncpg.Pool, settings: BookingSettings, provider_ids: Iterable[str]
) -> None:
    """The calendars of the providers about to be booked, if not tried for the maximum age.

    Bounded by the time-out: a slow or failing calendar is booked with its last busy times."""
    async with transaction(pool) as conn:
        old = await calendars.not_tried_since(
            conn, sorted(set(provider_ids)), settings.calendar_max_age_seconds
        )
    if not old:
        return
    try:
        async with asyncio.timeout(settings.calendar_timeout_seconds * 2):
            await refresh(pool, settings, old)
    except TimeoutError:
        FETCHES.labels("failed").inc(len(old))
        log.warning("provider calendars not fetched in time; booking with their last busy times")

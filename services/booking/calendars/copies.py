"""Werkbank's meetings written into the CalDAV calendars of the providers who asked for it:
PUT on confirm and after every change, DELETE on cancel. Both are idempotent, so a copy that is
written twice (two replicas, a crash before the row was noted) leaves one event. A copy that
fails is tried again after a wait that doubles per failure (``FIRST_WAIT`` to ``LONGEST_WAIT``),
not on every poll, so a calendar server that is down is not hammered."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from prometheus_client import Counter

from services.booking.calendars import client
from services.booking.calendars import repository as calendars
from services.booking.calendars.service import password_of
from services.booking.domain import feeds
from services.booking.feeds.api import feed_meeting
from services.booking.settings import BookingSettings
from shared.db import transaction

log = logging.getLogger(__name__)
COPIES = Counter(
    "werkbank_booking_calendar_copies_total",
    "Meetings written into (or removed from) providers' calendars, by outcome",
    ["outcome"],
)
FIRST_WAIT = 30.0  # seconds before the first retry of a failed copy
LONGEST_WAIT = 3600.0


async def write_due_copies(pool: asyncpg.Pool, settings: BookingSettings, limit: int = 50) -> int:
    """Writes the copies that differ from their meeting; the number tried."""
    now = datetime.now(UTC)
    async with transaction(pool) as conn:
        due = await calendars.copies_due(conn, now - timedelta(days=1), limit)
    if not due:
        return 0
    async with client.session(settings.calendar_timeout_seconds) as http:
        for copy in due:
            await _write(pool, http, settings, copy, now)
    return len(due)


async def _write(
    pool: asyncpg.Pool,
    http: httpx.AsyncClient,
    settings: BookingSettings,
    copy: calendars.CopyDue,
    now: datetime,
) -> None:
    meeting, source = copy.meeting, copy.source
    password = password_of(settings, source)
    timeout = settings.calendar_timeout_seconds
    try:
        if meeting["status"] == "cancelled":
            await client.delete_event(http, source, password, meeting["uid"], timeout=timeout)
        else:
            ics = feeds.feed_ics("Digitale Werkbank", [feed_meeting(meeting)], now)
            await client.put_event(http, source, password, meeting["uid"], ics, timeout=timeout)
    except client.CalendarUnavailableError as exc:
        COPIES.labels("failed").inc()
        async with transaction(pool) as conn:
            retry_at = await calendars.copy_failed(
                conn, meeting["meeting_id"], source.provider_id, FIRST_WAIT, LONGEST_WAIT
            )
        log.warning(
            "meeting not written into the provider's calendar; trying again later",
            extra={
                "meeting_id": meeting["meeting_id"],
                "reason": str(exc),
                "retry_at": retry_at.isoformat(),
            },
        )
        return
    COPIES.labels("removed" if meeting["status"] == "cancelled" else "written").inc()
    async with transaction(pool) as conn:
        await calendars.copy_written(
            conn, meeting["meeting_id"], source.provider_id, meeting["sequence"], meeting["status"]
        )

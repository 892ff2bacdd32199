"""Background loops: fetch providers' calendars on their schedule, write meetings into them.

Both loops only await (HTTP with time-outs, the database): cancelling them at shutdown stops
them at once; replicas share the fetching through leases and write copies idempotently."""

from __future__ import annotations

import asyncio

from services.booking.calendars.copies import write_due_copies
from services.booking.calendars.service import refresh_due
from services.booking.settings import BookingSettings
from shared.service import ServiceRuntime


def _settings(runtime: ServiceRuntime) -> BookingSettings:
    settings = runtime.settings
    assert isinstance(settings, BookingSettings)
    return settings


async def calendar_loop(runtime: ServiceRuntime) -> None:
    settings = _settings(runtime)
    while True:
        if await refresh_due(runtime.pool, settings) == 0:
            await asyncio.sleep(settings.calendar_poll_seconds)


async def copy_loop(runtime: ServiceRuntime) -> None:
    settings = _settings(runtime)
    while True:
        await write_due_copies(runtime.pool, settings)
        await asyncio.sleep(settings.calendar_poll_seconds)

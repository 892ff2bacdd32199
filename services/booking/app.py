"""Composition root of the booking service: wires settings, handlers and endpoints."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from pathlib import Path

from services.booking import api, attendees_api, handlers, places_api, privacy
from services.booking.domain.calendar import public_holidays
from services.booking.settings import BookingSettings
from shared.service import ServiceBlueprint, ServiceRuntime, command_line

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


async def load_rsvp_secret(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    assert isinstance(settings, BookingSettings)
    if settings.rsvp_secret is None:
        log.warning("BOOKING_RSVP_SECRET is not set: RSVP links will not survive a restart")
        runtime.state["rsvp_secret"] = secrets.token_bytes(32)
    else:
        runtime.state["rsvp_secret"] = settings.rsvp_secret.get_secret_value().encode()


async def load_holidays(runtime: ServiceRuntime) -> None:
    """Loads the holiday calendars at start-up: the first booking would otherwise pay for it."""
    this_year = datetime.now(UTC).year
    for year in (this_year, this_year + 1):
        public_holidays("NW", year)


def build(settings: BookingSettings | None = None) -> ServiceBlueprint:
    return ServiceBlueprint(
        settings=settings or BookingSettings(),
        migrations=MIGRATIONS,
        consumers=lambda runtime: [*handlers.consumers(runtime), *privacy.consumers(runtime)],
        routers=[
            api.router,
            places_api.router,
            attendees_api.rsvp_router,
            attendees_api.feedback_router,
        ],
        on_start=[load_rsvp_secret, load_holidays],
        background=[handlers.reminder_loop],
        title="Werkbank booking",
    )


def main(argv: list[str] | None = None) -> None:
    command_line(build, argv)

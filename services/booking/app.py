"""Composition root of the booking service: wires settings, handlers and endpoints."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from services.booking import api, attendees_api, handlers, places_api, privacy, retention
from services.booking.calendars import api as calendars_api
from services.booking.calendars.loop import calendar_loop, copy_loop
from services.booking.domain.calendar import public_holidays
from services.booking.feeds import api as feeds_api
from services.booking.inbound.loop import reply_loop
from services.booking.settings import BookingSettings
from shared.service import ServiceBlueprint, ServiceRuntime, command_line

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


class MissingSettingsError(RuntimeError):
    pass


async def load_rsvp_secret(runtime: ServiceRuntime) -> None:
    """Attendee links must survive a restart and point to where attendees reach booking: the
    secret and the public address come from the environment (the embedded stack sets both)."""
    settings = runtime.settings
    assert isinstance(settings, BookingSettings)
    if missing := settings.missing_for_links():
        msg = f"booking needs {' and '.join(missing)} to issue attendee links"
        raise MissingSettingsError(msg)
    assert settings.rsvp_secret is not None
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
            feeds_api.staff_router,
            feeds_api.feed_router,
            calendars_api.router,
        ],
        on_start=[load_rsvp_secret, load_holidays],
        background=[
            handlers.reminder_loop,
            retention.retention,
            reply_loop,
            calendar_loop,
            copy_loop,
        ],
        title="Werkbank booking",
    )


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments in ([], ["run"]) and (missing := BookingSettings().missing_for_links()):
        sys.exit(f"booking needs {' and '.join(missing)} to issue attendee links")
    command_line(build, argv)

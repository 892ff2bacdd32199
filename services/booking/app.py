"""Composition root of the booking service: wires settings, handlers and endpoints."""

from __future__ import annotations

from pathlib import Path

from services.booking import api, handlers
from services.booking.settings import BookingSettings
from shared.service import ServiceBlueprint, command_line

MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: BookingSettings | None = None) -> ServiceBlueprint:
    return ServiceBlueprint(
        settings=settings or BookingSettings(),
        migrations=MIGRATIONS,
        consumers=handlers.consumers,
        routers=[api.router],
        title="Werkbank booking",
    )


def main(argv: list[str] | None = None) -> None:
    command_line(build, argv)

"""Composition root of the notify service: wires settings, handlers and endpoints."""

from __future__ import annotations

from pathlib import Path

from services.notify import api, handlers
from services.notify.settings import NotifySettings
from shared.service import ServiceBlueprint, command_line

MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: NotifySettings | None = None) -> ServiceBlueprint:
    return ServiceBlueprint(
        settings=settings or NotifySettings(),
        migrations=MIGRATIONS,
        consumers=handlers.consumers,
        routers=[api.router],
        title="Werkbank notify",
    )


def main(argv: list[str] | None = None) -> None:
    command_line(build, argv)

"""Composition root of the matching service: wires settings, handlers and endpoints."""

from __future__ import annotations

from pathlib import Path

from services.matching import api, handlers
from services.matching.settings import MatchingSettings
from shared.service import ServiceBlueprint, command_line

MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: MatchingSettings | None = None) -> ServiceBlueprint:
    return ServiceBlueprint(
        settings=settings or MatchingSettings(),
        migrations=MIGRATIONS,
        consumers=handlers.consumers,
        routers=[api.router],
        title="Werkbank matching",
    )


def main(argv: list[str] | None = None) -> None:
    command_line(build, argv)

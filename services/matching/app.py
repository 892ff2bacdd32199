"""Composition root of the matching service: wires settings, handlers and endpoints."""

from __future__ import annotations

from pathlib import Path

from services.matching import api, handlers
from services.matching.domain.model import Taxonomy
from services.matching.settings import MatchingSettings
from shared.service import ServiceBlueprint, ServiceRuntime, command_line

MIGRATIONS = Path(__file__).parent / "migrations"


async def load_taxonomy(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    path = getattr(settings, "taxonomy_path", None)
    runtime.state["taxonomy"] = Taxonomy.load(path) if path else Taxonomy.load()


def build(settings: MatchingSettings | None = None) -> ServiceBlueprint:
    return ServiceBlueprint(
        settings=settings or MatchingSettings(),
        on_start=[load_taxonomy],
        migrations=MIGRATIONS,
        consumers=handlers.consumers,
        routers=[api.router],
        title="Werkbank matching",
    )


def main(argv: list[str] | None = None) -> None:
    command_line(build, argv)

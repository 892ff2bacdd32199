"""Composition root of the matching service: wires settings, handlers and endpoints."""

from __future__ import annotations

from pathlib import Path

from services.matching import api, api_reads, handlers, privacy, privacy_api, repository, retention
from services.matching.batch_runner import Lease, run_jobs, runner_id
from services.matching.domain.index import ProviderIndex
from services.matching.domain.model import Taxonomy
from services.matching.service import LiveIndex, Policy, refresh, to_provider
from services.matching.settings import MatchingSettings
from services.matching.worker import serve_worker
from shared.db import transaction
from shared.service import ServiceBlueprint, ServiceRuntime, command_line

MIGRATIONS = Path(__file__).parent / "migrations"


def _settings(runtime: ServiceRuntime) -> MatchingSettings:
    settings = runtime.settings
    assert isinstance(settings, MatchingSettings)
    return settings


async def load_taxonomy(runtime: ServiceRuntime) -> None:
    settings = _settings(runtime)
    taxonomy = Taxonomy.load(settings.taxonomy_path) if settings.taxonomy_path else Taxonomy.load()
    runtime.state["taxonomy"] = taxonomy
    runtime.state["policy"] = Policy(
        weights=settings.weights, top=settings.proposals_per_need, tolerance=settings.tolerance
    )
    async with transaction(runtime.pool) as conn:
        # Recorded by version, so that runs made with it can be replayed after a replacement.
        await repository.save_taxonomy(conn, taxonomy.version, taxonomy.as_doc())


async def build_index(runtime: ServiceRuntime) -> None:
    async with (
        runtime.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        rows, seq = await repository.provider_snapshot(conn)
    index = ProviderIndex(runtime.state["taxonomy"], [to_provider(row) for row in rows])
    live = LiveIndex(index, applied=seq)
    async with transaction(runtime.pool) as conn:
        await refresh(conn, live)
    runtime.state["index"] = live


async def run_batches(runtime: ServiceRuntime) -> None:
    """Without a matching worker, each API replica runs batch jobs (in a child process)."""
    settings = _settings(runtime)
    if settings.batch_in_api:
        await run_jobs(runtime.pool, Lease.of(settings), runner_id())


def build(settings: MatchingSettings | None = None) -> ServiceBlueprint:
    return ServiceBlueprint(
        settings=settings or MatchingSettings(),
        on_start=[load_taxonomy, build_index],
        migrations=MIGRATIONS,
        consumers=lambda runtime: [
            *handlers.consumers(runtime),
            *privacy.consumers(runtime),
        ],
        routers=[api.router, api_reads.router, privacy_api.router],
        background=[retention.retention, run_batches],
        title="Werkbank matching",
    )


def worker(blueprint: ServiceBlueprint) -> None:
    settings = blueprint.settings
    assert isinstance(settings, MatchingSettings)
    serve_worker(settings)


def main(argv: list[str] | None = None) -> None:
    """``werkbank-matching [run|migrate|worker]``."""
    command_line(build, argv, commands={"worker": worker})

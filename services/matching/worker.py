"""``werkbank-matching worker``: a process that runs batch jobs and nothing else, so the API
pods keep small memory limits and their probes. It serves only health, readiness (the
database) and metrics over HTTP; it needs no NATS, since a job's events are written when staff
commit its result through the API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.matching.batch_runner import Lease, run_jobs, runner_id
from services.matching.settings import MatchingSettings
from shared.db import create_pool, ping
from shared.http import create_http_app
from shared.logging import configure_logging, redact_every_handler
from shared.service import serve_app

log = logging.getLogger(__name__)


def create_worker_app(settings: MatchingSettings) -> FastAPI:
    state: dict[str, object] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(
            settings.database_url.get_secret_value(),
            settings.schema_name,
            min_size=1,
            max_size=settings.db_pool_max,
        )
        state["pool"] = pool
        owner = runner_id()
        redact_every_handler()
        task = asyncio.create_task(run_jobs(pool, Lease.of(settings), owner), name="batch runner")
        log.info("batch worker started", extra={"runner": owner})
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            state.clear()
            await pool.close()
            log.info("batch worker stopped", extra={"runner": owner})

    async def database_ready() -> bool:
        pool = state.get("pool")
        return pool is not None and await ping(pool)  # type: ignore[arg-type]

    return create_http_app(
        "Werkbank matching worker", [], {"database": database_ready}, lifespan=lifespan
    )


def serve_worker(settings: MatchingSettings) -> None:
    configure_logging(f"{settings.service_name}-worker", settings.log_level, json=settings.log_json)
    serve_app(create_worker_app(settings), settings, settings.worker_http_port)

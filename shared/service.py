"""The runtime every service shares: pool, migrations, broker, streams, outbox relay and HTTP.

A service describes itself with a ``ServiceBlueprint`` (its settings, migrations, consumers,
HTTP routers and background tasks); ``ServiceRuntime`` opens and closes the resources in the
right order, and ``serve`` runs it under uvicorn until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from faststream.nats import NatsBroker, NatsRouter
from faststream.nats.security import NatsSecurity, NatsUserPassword
from prometheus_client import REGISTRY

from shared.db import Pool, create_pool, ping
from shared.events.streams import ALL_STREAMS
from shared.http import create_http_app
from shared.logging import configure_logging, redact_every_handler
from shared.messaging.consumer import GuardedRouter
from shared.messaging.exhausted import ExhaustedDeliveriesListener
from shared.messaging.metrics import ConsumerPrometheusMiddleware
from shared.messaging.outbox import OutboxRelay
from shared.messaging.publisher import ensure_streams
from shared.migrations import migrate, migrations_for
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class ServiceRuntime:
    """The open resources of one running service, handed to its handlers and endpoints."""

    settings: ServiceSettings
    pool: Pool
    broker: NatsBroker
    relay: OutboxRelay
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.settings.service_name


def runtime_of(request: Request) -> ServiceRuntime:
    """The running service behind an HTTP request."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


Hook = Callable[[ServiceRuntime], Awaitable[None]]
BackgroundTask = Callable[[ServiceRuntime], Awaitable[None]]


@dataclass
class ServiceBlueprint:
    """What a service is made of; its ``app.py`` builds one and nothing connects until start."""

    settings: ServiceSettings
    migrations: Path
    consumers: Callable[[ServiceRuntime], Sequence[NatsRouter]] = lambda _: ()
    routers: Sequence[APIRouter] = ()
    on_start: Sequence[Hook] = ()
    on_stop: Sequence[Hook] = ()
    background: Sequence[BackgroundTask] = ()
    title: str = ""
    # Last touches on the ASGI app (middleware, static files) for a service that serves pages.
    customize: Callable[[FastAPI], None] | None = None

    @property
    def name(self) -> str:
        return self.settings.service_name


def _tls_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    if settings.nats_tls_ca is None:
        return None
    context = ssl.create_default_context(cafile=str(settings.nats_tls_ca))
    if settings.nats_tls_cert and settings.nats_tls_key:
        context.load_cert_chain(str(settings.nats_tls_cert), str(settings.nats_tls_key))
    return context


def _security(settings: ServiceSettings) -> NatsSecurity | None:
    tls = _tls_context(settings)
    if settings.nats_user:
        password = settings.nats_password.get_secret_value() if settings.nats_password else ""
        return NatsUserPassword(settings.nats_user, password, ssl_context=tls)
    if tls is not None:
        return NatsSecurity(ssl_context=tls)
    return None


def create_broker(settings: ServiceSettings) -> NatsBroker:
    return NatsBroker(
        settings.nats_url,
        security=_security(settings),
        name=settings.service_name,
        graceful_timeout=settings.graceful_timeout_seconds,
        middlewares=[
            ConsumerPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name)
        ],
        logger=logging.getLogger(f"faststream.{settings.service_name}"),
        # "Received"/"Processed" for every message: at hundreds a second only worth it when
        # debugging (failures are logged as errors, and counted by the consumer metrics).
        log_level=logging.DEBUG,
        max_reconnect_attempts=-1,
    )


async def run_migrations(settings: ServiceSettings, migrations: Path) -> list[str]:
    pool = await create_pool(
        settings.database_url.get_secret_value(), settings.schema_name, min_size=1, max_size=1
    )
    try:
        async with pool.acquire() as conn:
            return await migrate(conn, settings.schema_name, migrations_for(migrations))
    finally:
        await pool.close()


@asynccontextmanager
async def running(blueprint: ServiceBlueprint) -> AsyncIterator[ServiceRuntime]:
    """Open everything in order, yield the runtime, and close it in reverse order."""
    settings = blueprint.settings
    if settings.migrate_on_start:
        await run_migrations(settings, blueprint.migrations)
    pool = await create_pool(
        settings.database_url.get_secret_value(),
        settings.schema_name,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
    )
    broker = create_broker(settings)
    relay = OutboxRelay(
        pool,
        broker,
        service=settings.service_name,
        schema=settings.schema_name,
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
    )
    runtime = ServiceRuntime(settings=settings, pool=pool, broker=broker, relay=relay)
    tasks: list[asyncio.Task[None]] = []
    exhausted: ExhaustedDeliveriesListener | None = None
    try:
        routers = list(blueprint.consumers(runtime))
        for router in routers:
            broker.include_router(router)
        await broker.connect()
        await ensure_streams(broker, ALL_STREAMS, settings.stream_replicas)
        for hook in blueprint.on_start:
            await hook(runtime)
        await broker.start()
        exhausted = ExhaustedDeliveriesListener(
            broker.connection, [r.spec for r in routers if isinstance(r, GuardedRouter)]
        )
        await exhausted.start(broker)
        await relay.start()
        redact_every_handler()
        tasks = [
            asyncio.create_task(_keep_running(task, runtime), name=task.__name__)
            for task in blueprint.background
        ]
        # What start-up built (modules, routers, pools) lives as long as the process: the
        # collector need not walk it again on every full collection.
        gc.freeze()
        log.info("service started", extra={"service": settings.service_name})
        yield runtime
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await relay.stop()
        if exhausted is not None:
            await exhausted.stop()
        await broker.stop()
        for hook in blueprint.on_stop:
            with contextlib.suppress(Exception):
                await hook(runtime)
        await pool.close()
        log.info("service stopped", extra={"service": settings.service_name})


async def _keep_running(task: BackgroundTask, runtime: ServiceRuntime) -> None:
    """Background loops restart after an error instead of dying quietly."""
    while True:
        try:
            await task(runtime)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task failed; restarting", extra={"task": task.__name__})
            await asyncio.sleep(1.0)


def create_app(blueprint: ServiceBlueprint) -> FastAPI:
    """The ASGI app of a service: its lifespan runs the whole service."""
    holder: dict[str, ServiceRuntime] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(blueprint) as runtime:
            holder["runtime"] = runtime
            app.state.runtime = runtime
            yield
            holder.clear()

    async def nats_ready() -> bool:
        runtime = holder.get("runtime")
        return bool(
            runtime and runtime.broker.connection and runtime.broker.connection.is_connected
        )

    async def database_ready() -> bool:
        runtime = holder.get("runtime")
        return bool(runtime and await ping(runtime.pool))

    app = create_http_app(
        blueprint.title or f"Werkbank {blueprint.name}",
        blueprint.routers,
        {"nats": nats_ready, "database": database_ready},
        lifespan=lifespan,
    )
    if blueprint.customize is not None:
        blueprint.customize(app)
    return app


def serve(blueprint: ServiceBlueprint) -> None:
    settings = blueprint.settings
    configure_logging(settings.service_name, settings.log_level, json=settings.log_json)
    serve_app(create_app(blueprint), settings, settings.http_port)


def serve_app(app: FastAPI, settings: ServiceSettings, port: int) -> None:
    """Run an ASGI app under uvicorn until SIGTERM, then shut it down gracefully."""
    uvicorn.run(
        app,
        host=settings.http_host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.graceful_timeout_seconds),
    )


def command_line(
    build: Callable[[], ServiceBlueprint],
    argv: list[str] | None = None,
    commands: Mapping[str, Callable[[ServiceBlueprint], None]] | None = None,
) -> None:
    """``<service> run`` serves; ``<service> migrate`` applies the migrations and exits; a
    service may add ``commands`` of its own (matching's ``worker``)."""
    extra = dict(commands or {})
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run", "migrate", *extra], nargs="?", default="run")
    args = parser.parse_args(argv)
    blueprint = build()
    if args.command in extra:
        extra[args.command](blueprint)
        return
    if args.command == "migrate":
        settings = blueprint.settings
        configure_logging(settings.service_name, settings.log_level, json=settings.log_json)
        applied = asyncio.run(run_migrations(settings, blueprint.migrations))
        log.info("migrations applied", extra={"versions": applied})
        return
    serve(blueprint)

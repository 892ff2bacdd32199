"""Composition root of the console: read model consumers, service clients, pages."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount

from services.console import api, handlers, privacy, replay, report_pdf, retention
from services.console.clients import Services
from services.console.domain.freshness import Freshness
from services.console.settings import ConsoleSettings
from services.console.web import signin
from services.console.web.session import SessionMiddleware
from shared.service import ServiceBlueprint, ServiceRuntime, command_line

MIGRATIONS = Path(__file__).parent / "migrations"
STATIC = Path(__file__).parent / "static"


async def open_clients(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    assert isinstance(settings, ConsoleSettings)
    runtime.state.setdefault("freshness", Freshness())
    runtime.state["services"] = Services(
        settings, httpx.AsyncClient(timeout=settings.service_timeout_seconds)
    )
    await replay.open_replay(runtime)


async def close_clients(runtime: ServiceRuntime) -> None:
    services: Services | None = runtime.state.get("services")
    if services is not None:
        await services.client.aclose()
    await replay.close_replay(runtime)


def customizer(settings: ConsoleSettings):  # type: ignore[no-untyped-def]
    secret = (
        settings.session_secret.get_secret_value()
        if settings.session_secret
        else secrets.token_urlsafe(32)
    )

    def customize(app: FastAPI) -> None:
        # First, so that no page route (such as /{kind}/{row_id}) shadows a static file.
        app.router.routes.insert(0, Mount("/static", StaticFiles(directory=STATIC), name="static"))
        app.state.oidc = signin.provider_for(settings)
        app.add_middleware(signin.SignInMiddleware)
        app.add_middleware(
            SessionMiddleware,
            secret=secret,
            idle_seconds=settings.session_idle_minutes * 60,
            absolute_seconds=settings.session_absolute_hours * 3600,
            secure=settings.secure_cookies,
        )

    return customize


def build(settings: ConsoleSettings | None = None) -> ServiceBlueprint:
    settings = settings or ConsoleSettings()
    return ServiceBlueprint(
        settings=settings,
        migrations=MIGRATIONS,
        consumers=lambda runtime: [*handlers.consumers(runtime), *privacy.consumers(runtime)],
        routers=api.routers,
        on_start=[open_clients],
        on_stop=[close_clients],
        background=[handlers.watch_pending, report_pdf.monthly_schedule, retention.retention],
        title="Werkbank console",
        customize=customizer(settings),
    )


def main(argv: list[str] | None = None) -> None:
    command_line(build, argv)

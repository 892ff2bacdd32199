"""The HTTP face every service shares: health, readiness, metrics, sign-in and body limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Response, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from shared.auth import Admin, GuardedRoute, Staff, Viewer
from shared.idempotency import IdempotencyMiddleware
from shared.problems import install_problem_details
from shared.request_guard import refuse_odd_input

__all__ = [
    "Admin",
    "GuardedRoute",
    "Staff",
    "StaffOnly",
    "Viewer",
    "create_http_app",
    "health_router",
]

ReadinessCheck = Callable[[], Awaitable[bool]]


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process serves requests")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: NATS and the database are reachable")
    async def readyz(response: Response) -> dict[str, object]:
        results: dict[str, bool] = {}
        for name, check in checks.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        ready = all(results.values())
        if not ready:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "ready" if ready else "not ready", "checks": results}

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


StaffOnly = Staff
"""Deprecated: say which role an endpoint needs with ``Viewer``, ``Staff`` or ``Admin``."""


SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"
DOCS_ASSETS = "/docs-assets"


def install_local_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from files the service serves itself: intranets block CDNs."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=SWAGGER_UI), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )


def create_http_app(
    title: str,
    routers: Sequence[APIRouter],
    checks: dict[str, ReadinessCheck],
    *,
    lifespan: Callable[[FastAPI], object] | None = None,
    version: str = "0.1.0",
) -> FastAPI:
    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,  # type: ignore[arg-type]
        dependencies=[Depends(refuse_odd_input)],
        docs_url=None,
        redoc_url=None,
    )
    install_local_docs(app)
    install_problem_details(app)
    app.add_middleware(IdempotencyMiddleware)
    app.include_router(health_router(checks))
    for router in routers:
        app.include_router(router)
    return app

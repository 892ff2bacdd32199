"""The HTTP face every service shares: health, readiness, metrics and the staff token check."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from shared.idempotency import IdempotencyMiddleware
from shared.problems import install_problem_details
from shared.request_guard import refuse_odd_input

ReadinessCheck = Callable[[], Awaitable[bool]]

_bearer = HTTPBearer(auto_error=False, description="The staff token of this office")


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


def _same_secret(given: str, expected: str) -> bool:
    """Compares bytes: ``hmac.compare_digest`` raises on non-ASCII ``str``."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def staff_token_dependency(
    expected: Callable[[Request], str | None],
) -> Callable[..., Awaitable[str]]:
    """A dependency that admits a request only with ``Authorization: Bearer <staff token>``."""

    async def require_staff(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        token = expected(request)
        if token is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "staff token not configured")
        if credentials is None or not _same_secret(credentials.credentials, token):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing or wrong staff token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return "staff"

    return require_staff


def _configured_staff_token(request: Request) -> str | None:
    token = request.app.state.runtime.settings.staff_token
    return token.get_secret_value() if token else None


StaffOnly = Annotated[str, Depends(staff_token_dependency(_configured_staff_token))]
"""Add ``_: StaffOnly`` to an endpoint to admit only requests with the service's staff token."""


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

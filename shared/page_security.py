"""Security headers for pages people open from a link (RSVP, feedback): nothing loads from
elsewhere, no framing, no referrer leaking the signed link, nothing cached."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

from shared.auth import GuardedRoute
from shared.problems import validation_problem

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class SecurePageRoute(GuardedRoute):
    """A route whose every answer, errors included, carries ``PAGE_HEADERS`` (and, as every
    guarded route, a limited body)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as exc:
                exc.headers = {**PAGE_HEADERS, **(exc.headers or {})}
                raise
            except RequestValidationError as exc:
                return validation_problem(exc, PAGE_HEADERS)
            response.headers.update(PAGE_HEADERS)
            return response

        return with_headers

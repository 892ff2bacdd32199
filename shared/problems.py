"""RFC 9457 problem details for every error of every service's HTTP API.

Each error answers ``application/problem+json`` with ``type``, ``title``, ``status`` and
``detail``; a validation error adds ``errors: [{field, loc, message}]``. Inputs are never echoed
back (a 200 MB body must not come back in the 422), and long details are cut. A database that
is down or restarting is a 503 with ``Retry-After``, never a 500.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.request_guard import MAX_ID_LENGTH

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
MAX_TEXT = 300
MAX_ERRORS = 50
RETRY_AFTER_SECONDS = 5
_LOCATIONS = {"body", "query", "path", "header", "cookie"}
_RFC_9110_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def title_of(status: int) -> str:
    return _RFC_9110_TITLES.get(status) or HTTPStatus(status).phrase


class FieldError(BaseModel):
    field: str = Field(description="The input at fault, dotted (``contacts.0.email``)")
    loc: list[str | int] = Field(default_factory=list, description="Where: body, query, path…")
    message: str


class Problem(BaseModel):
    """An error as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None

    model_config = {"extra": "allow"}


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title_of(status),
        "status": status,
    }
    if detail:
        body["detail"] = _cut(detail)
    if errors:
        body["errors"] = [_field_error(error) for error in list(errors)[:MAX_ERRORS]]
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    loc = [part if isinstance(part, int) else _cut(str(part), 100) for part in error.get("loc", [])]
    field = error.get("field")
    if field is None:
        inside = loc[1:] if loc and loc[0] in _LOCATIONS else loc
        field = ".".join(str(part) for part in inside) or (str(loc[0]) if loc else "")
    extra = {k: v for k, v in error.items() if k in {"row", "id"} and isinstance(v, int | str)}
    return {
        "field": _cut(str(field), 200),
        "loc": loc or [str(field)],
        "message": _cut(str(error.get("message", error.get("msg", "invalid")))),
        **{k: _cut(v, 100) if isinstance(v, str) else v for k, v in extra.items()},
    }


def _from_http_exception(exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail
    headers = dict(exc.headers or {})
    if isinstance(detail, Mapping):
        errors = detail.get("errors")
        if errors is None and "field" in detail:
            errors = [detail]
        extensions = {
            key: value
            for key, value in detail.items()
            if key not in {"errors", "field", "message", "loc", "type", "title", "status"}
        }
        return problem_response(
            exc.status_code,
            str(detail.get("message") or ""),
            errors=errors or (),
            headers=headers,
            **extensions,
        )
    text: str | None = detail if isinstance(detail, str) else None
    if text in {HTTPStatus(exc.status_code).phrase, title_of(exc.status_code)}:
        text = None
    return problem_response(exc.status_code, text, headers=headers)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _from_http_exception(exc)


def validation_problem(
    exc: RequestValidationError, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    errors = [{"loc": list(error.get("loc", ())), "msg": error["msg"]} for error in exc.errors()]
    return problem_response(
        422, "the request is not valid; see errors", errors=errors, headers=headers
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(exc)


def outage_response() -> JSONResponse:
    return problem_response(
        503,
        "the database is not reachable right now; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable", extra={"error": type(exc).__name__})
    return outage_response()


async def _transient_conflict(request: Request, exc: Exception) -> JSONResponse:
    log.warning("transaction conflict", extra={"error": type(exc).__name__})
    return problem_response(
        503, "a concurrent change got in the way; try again", headers={"Retry-After": "1"}
    )


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    log.info("unstorable input refused", extra={"error": type(exc).__name__})
    return problem_response(
        422, "the input holds a value that cannot be stored (characters, length or size)"
    )


# Connection loss, refused or timed out connections, a server restarting or shutting down,
# and a pool that was closed under us: the database is unavailable, not the request wrong.
# OSError covers a vanished unix socket (FileNotFoundError) as well as TCP refusals.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.InterfaceError,
    asyncio.TimeoutError,
    OSError,
)
CONFLICT_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)
UNSTORABLE_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.exceptions.DataError,
    asyncpg.exceptions.ProgramLimitExceededError,
    UnicodeEncodeError,
)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(500, "an unexpected error; it has been logged")


def install_problem_details(app: FastAPI) -> None:
    """Every error of ``app`` as problem details, documented in its OpenAPI."""
    document_problems(app)
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for error in OUTAGE_ERRORS:
        app.add_exception_handler(error, _database_unavailable)
    for error in CONFLICT_ERRORS:
        app.add_exception_handler(error, _transient_conflict)
    for error in UNSTORABLE_ERRORS:
        app.add_exception_handler(error, _unstorable)


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key (same route, same caller, within 24 h) gets the "
    "first answer again (header Idempotent-Replayed: true) instead of writing twice",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
}
_WRITES = {"post", "put", "patch", "delete"}
_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Body too large",
    422: "Invalid input; ``errors`` names each field",
    429: "Too many requests; see Retry-After",
    503: "Unavailable (database down or restarting); see Retry-After",
}


def _problem_codes(path: str, method: str, operation: Mapping[str, Any]) -> list[int]:
    if path in {"/healthz", "/readyz"}:
        return []
    codes = [400, 422, 503]
    if operation.get("security") or path.startswith("/api/"):  # webhooks check their own secret
        codes += [401, 403]
    if "{" in path:
        codes.append(404)
    if method in _WRITES:
        codes += [404, 409, 413]
    if path.startswith(("/rsvp", "/feedback")):
        codes += [403, 404, 409, 429]
    return sorted(set(codes))


def _document_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for code in _problem_codes(path, method, operation):
        responses[str(code)] = {
            "description": responses.get(str(code), {}).get("description") or _DESCRIPTIONS[code],
            "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
        }
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path" and str(parameter.get("name", "")).endswith("_id"):
            parameter.setdefault("schema", {})["maxLength"] = MAX_ID_LENGTH
    if method in _WRITES and path.startswith("/api/") and operation.get("security"):
        operation.setdefault("parameters", []).append(_IDEMPOTENCY_KEY)


def problem_openapi(openapi: dict[str, Any]) -> dict[str, Any]:
    """Declare the problem responses of each operation; FastAPI's own 422 shape is replaced."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schemas["Problem"].pop("$defs", {}))
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                _document_operation(path, method, operation)
    return openapi


def document_problems(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_openapi(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

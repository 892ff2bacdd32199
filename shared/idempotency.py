"""``Idempotency-Key`` on staff writes: a retry with the same key gets the first answer.

Keyed by the key, the route (method and path) and the actor (a hash of the credentials, so
that one caller's key never returns another's answer), in the service's own schema, for
``TTL``. The first request claims the key; a second one while it runs gets 409. Answers below
500 are kept, except 401, 403 and 429 (a retry may well succeed); other answers release the
key. A claim older than ``ABANDONED`` without an answer (its process died) may be taken over.

Only writes to routes that ask for a role take part, and only once the caller is authenticated
and has that role: an unauthenticated or unauthorised request stores nothing and gets the
route's own 401 or 403. The route authenticates again (cheap: verified tokens are cached) rather
than trust a value left in the scope.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

import asyncpg
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import (
    AuthConfigurationError,
    AuthenticationError,
    authenticator_of,
    required_role,
)
from shared.problems import OUTAGE_ERRORS, outage_response, problem_response

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
ABANDONED = timedelta(minutes=1)
MAX_KEY_LENGTH = 200
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY = re.compile(rf"^[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}$")
_NOT_KEPT = frozenset({401, 403, 429})

_CLAIM = """
WITH purged AS (DELETE FROM idempotency_keys WHERE created_at < now() - $4::interval)
INSERT INTO idempotency_keys (key, route, actor) VALUES ($1, $2, $3)
ON CONFLICT (key, route, actor) DO UPDATE SET created_at = now()
WHERE idempotency_keys.status IS NULL
  AND idempotency_keys.created_at < now() - $5::interval
RETURNING true
"""
_STORED = """
SELECT status, content_type, body FROM idempotency_keys
WHERE key = $1 AND route = $2 AND actor = $3
"""
_KEEP = """
UPDATE idempotency_keys SET status = $4, content_type = $5, body = $6
WHERE key = $1 AND route = $2 AND actor = $3
"""
_RELEASE = "DELETE FROM idempotency_keys WHERE key = $1 AND route = $2 AND actor = $3"


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key.lower() == name), None)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        raw_key = _header(scope, b"idempotency-key")
        credentials = _header(scope, b"authorization")
        runtime = getattr(scope["app"].state, "runtime", None)
        if raw_key is None or credentials is None or runtime is None:
            await self.app(scope, receive, send)
            return
        if not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not _KEY.match(key):
            message = f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
            refused = problem_response(
                422, message, errors=[{"loc": ["header", HEADER], "message": message}]
            )
            await refused(scope, receive, send)
            return
        if not await _authorised(scope):
            await self.app(scope, receive, send)
            return
        ident = (key, f"{scope['method']} {scope['path']}", hashlib.sha256(credentials).hexdigest())
        await self._once(runtime.pool, ident, scope, receive, send)

    async def _once(
        self,
        pool: asyncpg.Pool,
        ident: tuple[str, str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        try:
            claimed = await pool.fetchval(_CLAIM, *ident, TTL, ABANDONED)
            stored = None if claimed else await pool.fetchrow(_STORED, *ident)
        except OUTAGE_ERRORS:
            await outage_response()(scope, receive, send)
            return
        if not claimed:
            await _replay(stored, scope, receive, send)
            return
        answer = _Recorder(send)
        try:
            await self.app(scope, receive, answer.send)
        finally:
            await self._settle(pool, ident, answer)

    async def _settle(
        self, pool: asyncpg.Pool, ident: tuple[str, str, str], answer: _Recorder
    ) -> None:
        try:
            if answer.status is not None and answer.status < 500 and answer.status not in _NOT_KEPT:
                await pool.execute(_KEEP, *ident, answer.status, answer.content_type, answer.body)
            else:
                await pool.execute(_RELEASE, *ident)
        except (*OUTAGE_ERRORS, asyncpg.PostgresError):
            # The answer has gone out; the claim lapses after ABANDONED.
            log.warning("idempotency record not written", extra={"route": ident[1]})


def _api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    # FastAPI >= 0.16x wraps included routers; their routes keep their full paths.
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(included.routes)


async def _authorised(scope: Scope) -> bool:
    """Whether the route asks for a role and the caller has it."""
    app = scope["app"]
    route = next(
        (r for r in _api_routes(app.router.routes) if r.matches(scope)[0] == Match.FULL), None
    )
    role = required_role(route) if route is not None else None
    if role is None:
        return False
    try:
        actor = await authenticator_of(app).authenticate(Headers(scope=scope))
    except (AuthenticationError, AuthConfigurationError):
        return False
    return actor.may(role)


async def _replay(stored: Any, scope: Scope, receive: Receive, send: Send) -> None:
    if stored is None or stored["status"] is None:
        busy = problem_response(409, f"a request with this {HEADER} is still being handled")
        await busy(scope, receive, send)
        return
    headers = [(b"idempotent-replayed", b"true")]
    if stored["content_type"]:
        headers.append((b"content-type", stored["content_type"].encode("latin-1")))
    body = bytes(stored["body"] or b"")
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": stored["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Recorder:
    """Passes the answer on while keeping a copy of its status, type and body."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self.content_type: str | None = None
        self._chunks: list[bytes] = []

    @property
    def body(self) -> bytes:
        return b"".join(self._chunks)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            content_type = _header({"headers": message.get("headers", [])}, b"content-type")
            self.content_type = content_type.decode("latin-1") if content_type else None
        elif message["type"] == "http.response.body":
            self._chunks.append(message.get("body", b""))
        await self._send(message)

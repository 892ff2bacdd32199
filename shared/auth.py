"""Who is calling a staff API: bearer tokens from the office's OpenID provider, and roles.

Every staff endpoint declares the role it needs with a parameter annotated ``Viewer``, ``Staff``
or ``Admin``; the parameter's value is the ``Actor``. Roles are ordered: an admin may do what
staff may do, and staff what a viewer may do.

Routes of the ``GuardedRoute`` class authenticate a request and check its role *before* the
endpoint reads the body, and limit the body's size, so an unauthenticated client cannot make a
service buffer or parse a large body. The dependencies find the actor the route stored, and
authenticate themselves where a route is not guarded.

A token is a JWT from the issuer in ``<P>OIDC_ISSUER``: its signature is checked against the
issuer's JWKS (cached; fetched again when a token names an unknown key, at most once a
second), and ``iss``, ``aud``, ``exp`` and ``nbf`` with a bounded clock skew. A verified token's
actor is kept (keyed by a hash of the token, a bounded LRU) until its ``exp`` plus the skew, as
long as the key that signed it is still published; failures are never kept. Only asymmetric
algorithms are accepted: ``none`` and the HMAC family never. The old shared staff token is
accepted only with ``<P>STATIC_TOKEN_ENABLED=true``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Message, Receive

log = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MAX_TOKEN_LENGTH = 16_384
MAX_JSON_BODY_BYTES = 1024 * 1024
BODY_LIMIT_KEY = "x-max-body-bytes"
STATIC_SUBJECT = "static-staff-token"
VERIFIED_CACHE_SIZE = 4096

_bearer_scheme = HTTPBearer(
    auto_error=False, description="An access token (JWT) from the office's OpenID provider"
)


class Role(StrEnum):
    VIEWER = "viewer"
    STAFF = "staff"
    ADMIN = "admin"


_RANK = {Role.VIEWER: 1, Role.STAFF: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Actor:
    """The person or machine client behind a request."""

    subject: str
    display_name: str
    roles: frozenset[str]
    client_id: str | None = None
    method: str = "oidc"  # or "static"

    def may(self, role: Role) -> bool:
        needed = _RANK[role]
        return any(_RANK.get(Role(r), 0) >= needed for r in self.roles if r in _ROLE_VALUES)


_ROLE_VALUES = frozenset(role.value for role in Role)


class AuthenticationError(Exception):
    """The credentials are missing, malformed, expired or not trusted (401)."""


class MissingCredentialsError(AuthenticationError):
    """No bearer token at all (RFC 6750: a bare ``WWW-Authenticate: Bearer`` challenge)."""


class AuthConfigurationError(Exception):
    """The service has neither an issuer nor the static token (503)."""


def roles_from_claims(claims: dict[str, Any], path: str) -> frozenset[str]:
    """Roles at a dotted claim path (``roles``, ``realm_access.roles``, ``groups``)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return frozenset()
        value = value.get(part)
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(str(item).rsplit("/", 1)[-1] for item in value if isinstance(item, str))
    return frozenset()


@dataclass(frozen=True)
class _Verified:
    actor: Actor
    key: jwt.PyJWK
    valid_until: float  # exp plus the clock skew, seconds since the epoch


class TokenVerifier:
    """Validates access tokens of one issuer for one audience."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        roles_claim: str = "roles",
        jwks_url: str | None = None,
        leeway_seconds: float = 30.0,
        jwks_max_age_seconds: float = 600.0,
        min_refresh_interval_seconds: float = 1.0,
        cache_size: int = VERIFIED_CACHE_SIZE,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.roles_claim = roles_claim
        self.leeway = leeway_seconds
        self._jwks_url = jwks_url
        self._jwks_max_age = jwks_max_age_seconds
        self._min_refresh = min_refresh_interval_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._fetching = asyncio.Lock()
        self._verified: OrderedDict[bytes, _Verified] = OrderedDict()
        self._cache_size = cache_size

    # --- keys ------------------------------------------------------------------------------

    def _discover_jwks_url(self) -> str:
        if self._jwks_url is None:
            answer = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5)
            answer.raise_for_status()
            document = answer.json()
            if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                msg = "the discovery document names another issuer"
                raise AuthConfigurationError(msg)
            self._jwks_url = str(document["jwks_uri"])
        return self._jwks_url

    def fetch_keys(self) -> None:
        """Fetch the issuer's JWKS (blocking: run it in a thread)."""
        try:
            client = jwt.PyJWKClient(self._discover_jwks_url(), cache_jwk_set=False, timeout=5)
            key_set = client.get_jwk_set()
        except (jwt.PyJWKClientError, httpx.HTTPError, KeyError, ValueError) as exc:
            log.warning("could not fetch the JWKS of the issuer: %s", type(exc).__name__)
        else:
            self._keys = {key.key_id: key for key in key_set.keys if key.key_id}
        self._fetched_at = time.monotonic()

    def _needs_fetch(self, kid: str) -> bool:
        stale = time.monotonic() - self._fetched_at > self._jwks_max_age
        return stale or kid not in self._keys

    async def verify_async(self, token: str) -> Actor:
        """Validate a token; fetch the JWKS first when it is stale or lacks the token's key.

        One fetch at a time, at most one per ``min_refresh_interval_seconds``: requests that
        waited for a fetch which still did not bring their key are refused without another."""
        digest = _digest(token)
        known = self._remembered(digest)
        if known is not None:
            return known
        header = _header_of(token)
        kid = _kid_in(header)
        if self._needs_fetch(kid):
            arrived = time.monotonic()
            async with self._fetching:
                if self._needs_fetch(kid) and self._fetched_at < arrived:
                    wait = self._min_refresh - (time.monotonic() - self._fetched_at)
                    if wait > 0:
                        await asyncio.sleep(wait)
                    await asyncio.to_thread(self.fetch_keys)
        return self._verify(token, digest, header, kid)

    def verify(self, token: str) -> Actor:
        """Validate a token against the keys at hand (see ``verify_async`` for fetching)."""
        digest = _digest(token)
        known = self._remembered(digest)
        if known is not None:
            return known
        header = _header_of(token)
        return self._verify(token, digest, header, _kid_in(header))

    def _remembered(self, digest: bytes) -> Actor | None:
        entry = self._verified.get(digest)
        if entry is None:
            return None
        # Like PyJWT: a token has expired once now >= exp + leeway.
        if (
            time.time() >= entry.valid_until
            or self._keys.get(entry.key.key_id or "") is not entry.key
        ):
            del self._verified[digest]
            return None
        self._verified.move_to_end(digest)
        return entry.actor

    def _remember(self, digest: bytes, actor: Actor, key: jwt.PyJWK, expires: Any) -> None:
        if (
            self._cache_size <= 0
            or isinstance(expires, bool)
            or not isinstance(expires, int | float)
        ):
            return
        self._verified[digest] = _Verified(actor, key, float(expires) + self.leeway)
        self._verified.move_to_end(digest)
        while len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)

    def _verify(self, token: str, digest: bytes, header: dict[str, Any], kid: str) -> Actor:
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            msg = f"algorithm {str(algorithm)[:16]!r} is not accepted"
            raise AuthenticationError(msg)
        key = self._keys.get(kid)
        if key is None:
            msg = "the token is signed with a key the issuer does not publish"
            raise AuthenticationError(msg)
        declared = key._jwk_data.get("alg")
        if declared and declared != algorithm:
            msg = "the token's algorithm does not match its key"
            raise AuthenticationError(msg)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthenticationError("the token is not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthenticationError("the token is meant for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthenticationError("the token comes from another issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthenticationError("the token's signature is not valid") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("the token is not valid") from exc
        actor = _actor_from(claims, self.roles_claim)
        self._remember(digest, actor, key, claims.get("exp"))
        return actor


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _header_of(token: str) -> dict[str, Any]:
    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise AuthenticationError("the token is not a JWT") from exc
    return header


def _kid_in(header: dict[str, Any]) -> str:
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 256:
        raise AuthenticationError("the token names no signing key")
    return kid


def _actor_from(claims: dict[str, Any], roles_claim: str) -> Actor:
    subject = str(claims["sub"])[:256]
    name = claims.get("name") or claims.get("preferred_username") or subject
    client = claims.get("client_id") or claims.get("azp")
    return Actor(
        subject=subject,
        display_name=str(name)[:200],
        roles=roles_from_claims(claims, roles_claim),
        client_id=str(client)[:200] if client else None,
    )


def _static_actor() -> Actor:
    return Actor(
        subject=STATIC_SUBJECT,
        display_name="Statischer Staff-Token",
        roles=frozenset({Role.ADMIN.value}),
        method="static",
    )


def _bearer_token(headers: Headers) -> str:
    value = headers.get("authorization")
    if value is None:
        raise MissingCredentialsError("no bearer token")
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("the Authorization header is not 'Bearer <token>'")
    # Headers arrive as latin-1: anything outside ASCII cannot be a JWT or the static token.
    if not token.isascii() or len(token) > MAX_TOKEN_LENGTH:
        raise AuthenticationError("the token is malformed")
    return token


class Authenticator:
    """The service's view of its settings: the issuer's verifier and the static token."""

    def __init__(self, settings: Any) -> None:
        issuer = getattr(settings, "oidc_issuer", None)
        self.verifier = (
            TokenVerifier(
                issuer,
                settings.oidc_audience,
                roles_claim=settings.oidc_roles_claim,
                jwks_url=settings.oidc_jwks_url,
                leeway_seconds=settings.oidc_clock_skew_seconds,
            )
            if issuer
            else None
        )
        token = settings.staff_token if getattr(settings, "static_token_enabled", False) else None
        self.static_token: bytes | None = token.get_secret_value().encode() if token else None

    async def authenticate(self, headers: Headers) -> Actor:
        if self.verifier is None and self.static_token is None:
            msg = "staff sign-in is not configured (OIDC issuer or static token)"
            raise AuthConfigurationError(msg)
        token = _bearer_token(headers)
        if self.static_token is not None and hmac.compare_digest(
            token.encode("ascii"), self.static_token
        ):
            return _static_actor()
        if self.verifier is None:
            raise AuthenticationError("wrong staff token")
        return await self.verifier.verify_async(token)


def authenticator_of(app: Any) -> Authenticator:
    found: Authenticator | None = getattr(app.state, "authenticator", None)
    if found is None:
        found = Authenticator(app.state.runtime.settings)
        app.state.authenticator = found
    return found


def _unauthorized(error: AuthenticationError) -> HTTPException:
    challenge = "Bearer"
    if not isinstance(error, MissingCredentialsError):
        challenge = 'Bearer error="invalid_token"'
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        f"not signed in: {error}",
        headers={"WWW-Authenticate": challenge},
    )


def _forbidden(role: Role) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the role '{role.value}'")


async def _actor_for(request: Request, role: Role) -> Actor:
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None:
        try:
            actor = await authenticator_of(request.app).authenticate(request.headers)
        except AuthConfigurationError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
        except AuthenticationError as exc:
            raise _unauthorized(exc) from exc
        request.state.actor = actor
    if not actor.may(role):
        raise _forbidden(role)
    return actor


def requires(role: Role) -> Callable[..., Awaitable[Actor]]:
    async def require_role(
        request: Request,
        _: Annotated[Any, Depends(_bearer_scheme)],
    ) -> Actor:
        return await _actor_for(request, role)

    require_role.required_role = role  # type: ignore[attr-defined]
    return require_role


_REQUIRE = {role: requires(role) for role in Role}

Viewer = Annotated[Actor, Depends(_REQUIRE[Role.VIEWER])]
"""Reading staff data: a viewer, staff member or admin."""
Staff = Annotated[Actor, Depends(_REQUIRE[Role.STAFF])]
"""Day-to-day staff actions: match, accept, book, resend, cancel, reschedule, attendance."""
Admin = Annotated[Actor, Depends(_REQUIRE[Role.ADMIN])]
"""Administration: imports, venues, taxonomy, replays, erasure."""


def required_role(route: APIRoute) -> Role | None:
    """The role a route's dependencies ask for, if any (the strictest one)."""
    found: Role | None = None
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        role = getattr(dependency.call, "required_role", None)
        if isinstance(role, Role) and (found is None or _RANK[role] > _RANK[found]):
            found = role
        stack.extend(dependency.dependencies)
    return found


class GuardedRoute(APIRoute):
    """A route that authenticates, checks the role and limits the body before reading it.

    FastAPI reads and parses the body before it runs dependencies; this handler runs first.
    The body limit is ``MAX_JSON_BODY_BYTES`` unless the operation declares its own with
    ``openapi_extra={"x-max-body-bytes": n}`` (so clients see it in the OpenAPI document).
    Use it for every router: ``APIRouter(..., route_class=GuardedRoute)``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        role = required_role(self)
        limit = int((self.openapi_extra or {}).get(BODY_LIMIT_KEY, MAX_JSON_BODY_BYTES))
        audited = role is not None and bool((self.methods or set()) - READ_METHODS)
        action = self.name

        async def guarded(request: Request) -> Response:
            if role is not None:
                try:
                    actor = await _actor_for(request, role)
                except HTTPException as exc:
                    if audited and exc.status_code == status.HTTP_403_FORBIDDEN:
                        _begin_audit(request, action, request.state.actor)
                        await _settle_audit(request, exc.status_code)
                    raise
                if audited:
                    _begin_audit(request, action, actor)
            try:
                declared = request.headers.get("content-length")
                if declared is not None and (not declared.isdigit() or int(declared) > limit):
                    raise _too_large(limit)
                limited = Request(request.scope, _limited_receive(request.receive, limit))
                response = await handler(limited)
            except HTTPException as exc:
                await _settle_audit(request, exc.status_code)
                raise
            except RequestValidationError:
                await _settle_audit(request, status.HTTP_422_UNPROCESSABLE_CONTENT)
                raise
            except Exception:
                await _settle_audit(request, status.HTTP_500_INTERNAL_SERVER_ERROR)
                raise
            await _settle_audit(request, response.status_code)
            return response

        return guarded


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _begin_audit(request: Request, action: str, actor: Actor) -> None:
    from shared import audit  # the audit module needs Actor from here

    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return
    service = runtime.settings.service_name
    request.state.audit = audit.AuditContext(
        service=service,
        action=f"{service}.{action}",
        actor=actor,
        request_id=audit.request_id_of(request),
        client_address=request.client.host if request.client else None,
        targets={key: str(value)[:200] for key, value in request.path_params.items()},
    )


async def _settle_audit(request: Request, status_code: int) -> None:
    from shared import audit

    if audit.context_of(request) is None:
        return
    try:
        await audit.settle(request, request.app.state.runtime.pool, status_code)
    except Exception:
        # The answer stands; the failure to audit it is logged for the operators.
        log.exception("could not write the audit record of %s", request.state.audit.action)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"the request body may hold at most {limit} bytes here",
    )


def _limited_receive(receive: Receive, limit: int) -> Receive:
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
        return message

    return limited

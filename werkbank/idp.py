"""A local OpenID provider for the embedded stack, built on Authlib's server components.

It stands in for the office's identity provider (typically Keycloak) in development and tests:
OpenID Connect discovery, a JWKS with key rotation, the authorization code flow with PKCE (a
sign-in form for the sample staff users below), refresh tokens, client credentials for machine
clients, userinfo and RP-initiated sign-out. Access tokens are JWTs (RFC 9068) for the audience
``werkbank`` with the user's roles in the ``roles`` claim, as the services expect.

``oidc-provider-mock`` was considered first: it issues opaque access tokens, has no client
credentials grant, no role claims and no key rotation, so the services could not validate its
tokens the way they validate a real IdP's.

The ``/testing/*`` endpoints (key rotation, minting tokens with chosen claims) exist for the test
suite only and need the provider's testing secret; this provider never runs outside this machine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import httpx
import uvicorn
from authlib.common.security import generate_token
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import OpenIDCode, UserInfo
from authlib.oidc.core.models import AuthorizationCodeMixin
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from werkbank.sinks import free_port

AUDIENCE = "werkbank"
CONSOLE_CLIENT_ID = "werkbank-console"
CLI_CLIENT_ID = "werkbank-cli"
SCOPES = ("openid", "profile", "email", "offline_access")
SESSION_COOKIE = "werkbank_idp_session"
LOOPBACK_PREFIXES = ("http://127.0.0.1:", "http://localhost:", "http://[::1]:")


@dataclass(frozen=True)
class SampleUser:
    username: str
    password: str
    name: str
    email: str
    roles: tuple[str, ...]

    def get_user_id(self) -> str:
        return self.username


# Local sample staff of the office; the passwords only ever open this local provider.
SAMPLE_USERS: tuple[SampleUser, ...] = (
    SampleUser("lena.vogt", "lena-lokal", "Lena Vogt", "lena.vogt@wifoe.example", ("viewer",)),
    SampleUser(
        "jonas.becker", "jonas-lokal", "Jonas Becker", "jonas.becker@wifoe.example", ("staff",)
    ),
    SampleUser(
        "miriam.schulz", "miriam-lokal", "Miriam Schulz", "miriam.schulz@wifoe.example", ("admin",)
    ),
)


@dataclass
class _Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    secret: str | None
    grant_types: tuple[str, ...]
    name: str
    roles: tuple[str, ...] = ()

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Development clients run on loopback addresses with ports chosen at start.
        return redirect_uri.startswith(LOOPBACK_PREFIXES)

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret is None:
            return False
        return hmac.compare_digest(client_secret.encode(), self.secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.secret is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class _Code(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass
class _RefreshToken:
    token: str
    client_id: str
    username: str
    scope: str
    expires_at: float
    revoked: bool = False

    def get_scope(self) -> str:
        return self.scope

    def check_client(self, client: _Client) -> bool:
        return client.client_id == self.client_id

    def is_expired(self) -> bool:
        return time.time() > self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked


@dataclass
class _Store:
    users: dict[str, SampleUser]
    clients: dict[str, _Client]
    codes: dict[str, _Code] = field(default_factory=dict)
    refresh_tokens: dict[str, _RefreshToken] = field(default_factory=dict)
    sessions: dict[str, tuple[str, int]] = field(default_factory=dict)  # id -> (user, auth_time)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Keys:
    """The signing key and the keys still published, so tokens signed before a rotation verify."""

    def __init__(self) -> None:
        self.current = self._new()
        self.published: list[RSAKey] = [self.current]

    @staticmethod
    def _new() -> RSAKey:
        return RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)

    def rotate(self, *, keep_previous: bool = True) -> str:
        fresh = self._new()
        self.published = [fresh, self.current] if keep_previous else [fresh]
        self.current = fresh
        return str(fresh.kid)

    def signing_set(self) -> KeySet:
        return KeySet([self.current])

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False) for key in self.published]}


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        args: dict[str, str],
        form: dict[str, str],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args = args
        self._form = form
        self.payload = BasicOAuth2Payload({**args, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, store: _Store) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.store = store

    def query_client(self, client_id: str) -> _Client | None:
        return self.store.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        refresh = token.get("refresh_token")
        if refresh and request.user is not None:
            with self.store.lock:
                self.store.refresh_tokens[refresh] = _RefreshToken(
                    token=refresh,
                    client_id=request.client.client_id,
                    username=request.user.username,
                    scope=token.get("scope", ""),
                    expires_at=time.time() + 8 * 3600,
                )

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        assert isinstance(request, OAuth2Request)
        return request

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        header_map = dict(headers or [])
        if isinstance(body, dict):
            header_map.pop("Content-Type", None)
            return JSONResponse(body, status, headers=header_map)
        return Response(body or b"", status, headers=header_map)


def _user_claims(user: SampleUser) -> dict[str, Any]:
    return {
        "name": user.name,
        "preferred_username": user.username,
        "email": user.email,
        "roles": list(user.roles),
    }


class _AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        # PKCE with S256 for every client, not only public ones (RFC 9700 section 2.1.1).
        if self.request.payload.data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required")
        return redirect_uri

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        store: _Store = self.server.store
        with store.lock:
            store.codes[code] = _Code(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.payload.scope or "",
                username=request.user.username,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=int(time.time()),
                expires_at=time.time() + 120,
            )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        found: _Code | None = self.server.store.codes.get(code)
        if found and found.client_id == client.client_id and found.expires_at > time.time():
            return found
        return None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        with self.server.store.lock:
            self.server.store.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: _Code) -> SampleUser | None:
        user: SampleUser | None = self.server.store.users.get(authorization_code.username)
        return user


class _RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> _RefreshToken | None:
        token: _RefreshToken | None = self.server.store.refresh_tokens.get(refresh_token)
        if token and not token.is_revoked() and not token.is_expired():
            return token
        return None

    def authenticate_user(self, refresh_token: _RefreshToken) -> SampleUser | None:
        user: SampleUser | None = self.server.store.users.get(refresh_token.username)
        return user

    def revoke_old_credential(self, refresh_token: _RefreshToken) -> None:
        refresh_token.revoked = True


class _ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False

    def resolve_client_private_key(self, client: _Client) -> KeySet:
        return self.provider.keys.signing_set()

    def get_client_algorithm(self, client: _Client) -> str:
        return "RS256"

    def get_encode_header(self, client: _Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": str(self.provider.keys.current.kid)}

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        return {
            "iss": self.provider.issuer,
            "aud": [client.client_id],
            "exp": int(time.time()) + self.provider.access_token_seconds,
        }

    def generate_user_info(self, user: SampleUser, scope: str) -> UserInfo:
        return UserInfo(sub=user.username, **_user_claims(user))


class _AccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(
            issuer=provider.issuer,
            refresh_token_generator=lambda **_: generate_token(48),
            expires_generator=lambda *_: provider.access_token_seconds,
        )
        self.provider = provider

    def get_jwks(self) -> KeySet:
        return self.provider.keys.signing_set()

    def get_audiences(self, client: _Client, user: SampleUser | None, scope: str) -> str:
        return self.provider.audience

    def get_extra_claims(
        self, client: _Client, grant_type: str, user: SampleUser | None, scope: str
    ) -> dict[str, Any]:
        claims: dict[str, Any] = {"nbf": int(time.time())}
        if user is not None:
            claims |= _user_claims(user)
        else:
            claims |= {"name": client.name, "roles": list(client.roles)}
        return claims


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


class OidcProvider:
    """The provider on 127.0.0.1, served by uvicorn on its own thread."""

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        users: tuple[SampleUser, ...] = SAMPLE_USERS,
        audience: str = AUDIENCE,
        access_token_seconds: int = 900,
    ) -> None:
        self.host = host
        self.port = port
        self.audience = audience
        self.access_token_seconds = access_token_seconds
        self.keys = _Keys()
        self.testing_secret = secrets.token_urlsafe(24)
        self.client_secrets = {
            CONSOLE_CLIENT_ID: secrets.token_urlsafe(24),
            CLI_CLIENT_ID: secrets.token_urlsafe(24),
        }
        self.store = _Store(
            users={user.username: user for user in users},
            clients={
                CONSOLE_CLIENT_ID: _Client(
                    CONSOLE_CLIENT_ID,
                    self.client_secrets[CONSOLE_CLIENT_ID],
                    ("authorization_code", "refresh_token"),
                    "Werkbank-Konsole",
                ),
                CLI_CLIENT_ID: _Client(
                    CLI_CLIENT_ID,
                    self.client_secrets[CLI_CLIENT_ID],
                    ("client_credentials",),
                    "Werkbank-CLI (Maschine)",
                    ("admin",),
                ),
            },
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._authorization: _Server | None = None

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        if self.port == 0:
            self.port = free_port(self.host)
        self._authorization = self._build_authorization_server()
        config = uvicorn.Config(
            self._app(), host=self.host, port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                msg = f"the OpenID provider did not start on port {self.port}"
                raise RuntimeError(msg)
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None

    def _build_authorization_server(self) -> _Server:
        server = _Server(self.store)
        server.register_token_generator("default", _AccessTokens(self))
        server.register_grant(
            _AuthorizationCodeGrant, [CodeChallenge(required=True), _OpenIDCode(self)]
        )
        server.register_grant(_RefreshTokenGrant)
        server.register_grant(_ClientCredentialsGrant)
        return server

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize, methods=["GET", "POST"]),
                Route("/token", self._token, methods=["POST"]),
                Route("/userinfo", self._userinfo, methods=["GET", "POST"]),
                Route("/logout", self._logout, methods=["GET", "POST"]),
                Route("/testing/rotate-key", self._rotate, methods=["POST"]),
                Route("/testing/tokens", self._mint, methods=["POST"]),
            ]
        )

    # --- endpoints -------------------------------------------------------------------------

    async def _discovery(self, request: Request) -> JSONResponse:
        base = self.issuer
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/userinfo",
                "jwks_uri": f"{base}/jwks",
                "end_session_endpoint": f"{base}/logout",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    "client_credentials",
                ],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": list(SCOPES),
                "claims_supported": [
                    "sub",
                    "name",
                    "preferred_username",
                    "email",
                    "roles",
                ],
            }
        )

    async def _jwks(self, request: Request) -> JSONResponse:
        return JSONResponse(self.keys.public_jwks(), headers={"Cache-Control": "max-age=60"})

    def _oauth_request(
        self, request: Request, args: dict[str, str], form: dict[str, str]
    ) -> _Request:
        return _Request(request.method, str(request.url), request.headers, args, form)

    async def _authorize(self, request: Request) -> Response:
        assert self._authorization is not None
        args = dict(request.query_params)
        form: dict[str, str] = {}
        if request.method == "POST":
            form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        oauth_params = {k: v for k, v in {**args, **form}.items() if k not in _LOGIN_FIELDS}
        oauth_request = self._oauth_request(request, oauth_params, {})
        try:
            grant = self._authorization.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return self._authorization.handle_error_response(oauth_request, error)  # type: ignore[no-any-return]
        user, error_text = self._signed_in_user(request, form, oauth_params)
        if user is None:
            return _login_page(oauth_params, error_text)
        oauth_request.user = user
        response: Response = self._authorization.create_authorization_response(
            oauth_request, grant_user=user, grant=grant
        )
        if request.method == "POST":
            session_id = secrets.token_urlsafe(24)
            with self.store.lock:
                self.store.sessions[session_id] = (user.username, int(time.time()))
            response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="lax")
        return response

    def _signed_in_user(
        self, request: Request, form: dict[str, str], params: dict[str, str]
    ) -> tuple[SampleUser | None, str]:
        if request.method == "POST":
            user = self.store.users.get(form.get("username", ""))
            password = form.get("password", "")
            if user is None or not hmac.compare_digest(
                password.encode("utf-8", "surrogatepass"), user.password.encode()
            ):
                return None, "Benutzername oder Passwort falsch / wrong user name or password"
            return user, ""
        session = self.store.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if session is not None and "login" not in params.get("prompt", ""):
            return self.store.users.get(session[0]), ""
        return None, ""

    async def _token(self, request: Request) -> Response:
        assert self._authorization is not None
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        oauth_request = self._oauth_request(request, dict(request.query_params), form)
        response: Response = self._authorization.create_token_response(oauth_request)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _userinfo(self, request: Request) -> JSONResponse:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return JSONResponse({"error": "invalid_token"}, 401)
        try:
            claims = self.verify(token)
        except (JoseError, ValueError):
            return JSONResponse({"error": "invalid_token"}, 401)
        keep = ("sub", "name", "preferred_username", "email", "roles")
        return JSONResponse({k: claims[k] for k in keep if k in claims})

    async def _logout(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params |= {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        with self.store.lock:
            self.store.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        target = params.get("post_logout_redirect_uri", "")
        if target.startswith(LOOPBACK_PREFIXES):
            if params.get("state"):
                separator = "&" if urlsplit(target).query else "?"
                target = f"{target}{separator}{urlencode({'state': params['state']})}"
            response: Response = RedirectResponse(target, 302)
        else:
            response = HTMLResponse(_page("Abgemeldet / Signed out", "<p>Sie sind abgemeldet.</p>"))
        response.delete_cookie(SESSION_COOKIE)
        return response

    def _testing_allowed(self, request: Request) -> bool:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(
            given.encode("utf-8", "surrogatepass"), self.testing_secret.encode()
        )

    async def _rotate(self, request: Request) -> JSONResponse:
        if not self._testing_allowed(request):
            return JSONResponse({"error": "forbidden"}, 403)
        keep = request.query_params.get("keep_previous", "true") == "true"
        return JSONResponse({"kid": self.keys.rotate(keep_previous=keep)})

    async def _mint(self, request: Request) -> JSONResponse:
        """A token signed with the current key, with claims the test chooses (expired ones...)."""
        if not self._testing_allowed(request):
            return JSONResponse({"error": "forbidden"}, 403)
        body = await request.json()
        return JSONResponse({"access_token": self.mint(body.get("claims", {}))})

    # --- helpers ---------------------------------------------------------------------------

    def mint(self, overrides: dict[str, Any]) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.access_token_seconds,
            "jti": generate_token(16),
            "client_id": CLI_CLIENT_ID,
            "sub": "test",
            "roles": [],
        }
        claims |= overrides
        header = {"alg": "RS256", "typ": "at+jwt", "kid": str(self.keys.current.kid)}
        return jwt.encode(header, claims, self.keys.current)

    def verify(self, token: str) -> dict[str, Any]:
        keys = KeySet(list(self.keys.published))
        decoded = jwt.decode(token, keys, algorithms=["RS256"])
        claims: dict[str, Any] = dict(decoded.claims)
        if claims.get("iss") != self.issuer or claims.get("exp", 0) < time.time():
            msg = "not a current token of this provider"
            raise ValueError(msg)
        return claims


_LOGIN_FIELDS = frozenset({"username", "password"})


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='de'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>"
    )


def _login_page(params: dict[str, str], error_text: str) -> HTMLResponse:
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
        for k, v in params.items()
    )
    error = f"<p role='alert'>{html.escape(error_text)}</p>" if error_text else ""
    form = (
        f"{error}<form method='post' action='/authorize'>{hidden}"
        "<label>Benutzername <input name='username' autocomplete='username'></label>"
        "<label>Passwort <input name='password' type='password' "
        "autocomplete='current-password'></label>"
        "<button type='submit'>Anmelden</button></form>"
    )
    status = 401 if error_text else 200
    return HTMLResponse(_page("Anmeldung Werkbank", form), status)


# --- clients of the provider (the CLI, tests, benchmarks) -------------------------------------


def user_token(
    issuer: str,
    username: str,
    password: str,
    *,
    client_id: str = CONSOLE_CLIENT_ID,
    client_secret: str,
    redirect_uri: str = "http://127.0.0.1:9/callback",
) -> dict[str, Any]:
    """Sign a user in through the authorization code flow with PKCE, as a browser would.

    The redirect is not followed: the code is read from its ``Location``. Returns the token
    response (``access_token``, ``id_token``, ``refresh_token``, ``expires_in``)."""
    verifier, challenge = _pkce_pair()
    state = secrets.token_urlsafe(12)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile email",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    with httpx.Client(base_url=issuer, timeout=10) as client:
        answer = client.post(
            "/authorize", data={**params, "username": username, "password": password}
        )
        if answer.status_code != 302:
            msg = f"sign-in failed with {answer.status_code}"
            raise PermissionError(msg)
        query = dict(httpx.URL(answer.headers["location"]).params)
        if query.get("state") != state or "code" not in query:
            msg = f"no code in the redirect: {query.get('error', 'unknown error')}"
            raise PermissionError(msg)
        tokens = client.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"],
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(client_id, client_secret),
        )
        tokens.raise_for_status()
        result: dict[str, Any] = tokens.json()
        return result


def client_token(issuer: str, client_id: str, client_secret: str) -> dict[str, Any]:
    """A machine client's token through the client-credentials grant."""
    with httpx.Client(timeout=10) as client:
        config = client.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        config.raise_for_status()
        answer = client.post(
            config.json()["token_endpoint"],
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
        )
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

"""Sign-in through the office's OpenID provider (authorization code flow with PKCE, Authlib).

The session keeps the person's subject, name, roles and tokens; every page but the static
assets, health, metrics and the sign-in pages needs a signed-in person. Without an issuer
configured the console runs on its service token and nobody signs in.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Depends, Request
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import RedirectResponse, Response

from services.console.settings import ConsoleSettings
from services.console.web.render import check_csrf, page, settings_of
from services.console.web.session import Session, session_of

PROVIDER = "werkbank"
PUBLIC_PATHS = ("/static/", "/healthz", "/readyz", "/metrics", "/anmelden", "/abgemeldet")
# Refresh this long before the access token expires, so no call to a service carries a dead one.
REFRESH_MARGIN_SECONDS = 60

router = APIRouter(include_in_schema=False)


def provider_for(settings: ConsoleSettings) -> Any | None:
    """Authlib's client for the configured issuer, or None when the console has no issuer."""
    if not settings.oidc_issuer:
        return None
    oauth = OAuth()
    secret = settings.oidc_client_secret
    return oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id or "werkbank-console",
        client_secret=secret.get_secret_value() if secret else None,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email"},
        code_challenge_method="S256",
    )


def provider_of(request: Request) -> Any | None:
    return getattr(request.app.state, "oidc", None)


def safe_target(target: str | None) -> str:
    """Only a path on this console, never another site (open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def own_url(request: Request, name: str) -> str:
    """This console's address of a route, as the provider must send the browser back to it:
    behind a proxy the configured public address, else the address the browser used."""
    settings = settings_of(request)
    if "public_base_url" in settings.model_fields_set:
        return settings.public_base_url.rstrip("/") + str(request.app.url_path_for(name))
    return str(request.url_for(name))


def signed_in(session: Session) -> bool:
    return bool(session.data.get("sub")) and bool(session.data.get("access_token"))


def keep_tokens(session: Session, token: dict[str, Any]) -> None:
    session.data["access_token"] = token["access_token"]
    expires_at = token.get("expires_at") or time.time() + float(token.get("expires_in", 300))
    session.data["expires_at"] = float(expires_at)
    if token.get("refresh_token"):
        session.data["refresh_token"] = token["refresh_token"]
    if token.get("id_token"):
        session.data["id_token"] = token["id_token"]


async def fresh_enough(provider: Any, session: Session, now: float) -> bool:
    """True if the access token lives on (refreshed if near its end); False: sign in again."""
    if float(session.data.get("expires_at", 0)) - now > REFRESH_MARGIN_SECONDS:
        return True
    refresh = session.data.get("refresh_token")
    if not refresh:
        return False
    try:
        token = await provider.fetch_access_token(grant_type="refresh_token", refresh_token=refresh)
    except (OAuthError, ValueError):
        return False
    if not token.get("access_token"):
        return False
    keep_tokens(session, token)
    return True


def to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in ("GET", "HEAD"):
        target = "/"
    location = "/anmelden?" + urlencode({"next": target})
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


class SignInMiddleware(BaseHTTPMiddleware):
    """Runs inside the session middleware: sends anyone not signed in to the provider."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        provider = provider_of(request)
        if provider is None or request.url.path.startswith(PUBLIC_PATHS):
            return await call_next(request)
        session = session_of(request)
        if not signed_in(session) or not await fresh_enough(provider, session, time.time()):
            session.fresh(time.time())
            return to_sign_in(request)
        return await call_next(request)


@router.get("/anmelden")
async def sign_in(request: Request, next: str = "/") -> Response:
    provider = provider_of(request)
    if provider is None:
        return RedirectResponse("/", status_code=303)
    session_of(request).data["next"] = safe_target(next)
    redirect_uri = own_url(request, "signin_callback")
    response: Response = await provider.authorize_redirect(request, redirect_uri)
    return response


@router.get("/anmelden/rueckkehr", name="signin_callback")
async def sign_in_callback(request: Request) -> Response:
    provider = provider_of(request)
    if provider is None:
        return RedirectResponse("/", status_code=303)
    session = session_of(request)
    try:
        token = await provider.authorize_access_token(request)
    except OAuthError:
        return RedirectResponse("/abgemeldet?fehler=1", status_code=303)
    claims = token.get("userinfo") or {}
    target = safe_target(session.data.get("next"))
    # A new session (and CSRF token) for the signed-in person: nothing carries over from before.
    session.fresh(time.time())
    session.data |= {
        "sub": str(claims["sub"]),
        "name": str(claims.get("name") or claims.get("preferred_username") or claims["sub"]),
        "roles": [str(role) for role in claims.get("roles", [])],
    }
    keep_tokens(session, token)
    return RedirectResponse(target, status_code=303)


async def end_session_url(request: Request, id_token: str | None) -> str:
    provider = provider_of(request)
    back = own_url(request, "signed_out")
    if provider is None:
        return back
    metadata = await provider.load_server_metadata()
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return back
    params = {"post_logout_redirect_uri": back}
    if id_token:
        params["id_token_hint"] = id_token
    return f"{endpoint}?{urlencode(params)}"


@router.post("/abmelden", dependencies=[Depends(check_csrf)])
async def sign_out(request: Request) -> Response:
    session = session_of(request)
    id_token = session.data.get("id_token")
    session.fresh(time.time())
    target = await end_session_url(request, id_token if isinstance(id_token, str) else None)
    return RedirectResponse(target, status_code=303)


@router.get("/abgemeldet", name="signed_out")
async def signed_out(request: Request, fehler: str = "") -> Response:
    return page(request, "signed_out.html", {"failed": bool(fehler)})

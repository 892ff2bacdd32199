"""An encrypted session cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS) with idle and
absolute time-outs, holding the CSRF token, the language, the signed-in person and their tokens.

The cookie is a Fernet token (AES-CBC with HMAC-SHA256, from ``cryptography``): the browser, its
extensions and anything that logs cookies see neither the access nor the refresh token. The key
is derived (HKDF) from ``CONSOLE_SESSION_SECRET``.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

COOKIE = "werkbank_console"


@dataclass
class Session:
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        token: str = self.data.setdefault("csrf", secrets.token_urlsafe(24))
        return token

    @property
    def language(self) -> str:
        return "en" if self.data.get("lang") == "en" else "de"

    def fresh(self, now: float) -> None:
        self.data = {
            "created": now,
            "seen": now,
            "csrf": secrets.token_urlsafe(24),
            "lang": self.data.get("lang", "de"),
        }


def expired(data: dict[str, Any], now: float, idle_seconds: float, absolute_seconds: float) -> bool:
    created = float(data.get("created", 0))
    seen = float(data.get("seen", 0))
    return now - seen > idle_seconds or now - created > absolute_seconds


class SealedCookie:
    """Seals a session's data into a cookie value and opens it again (None if not ours)."""

    def __init__(self, secret: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"werkbank-console-session"
        ).derive(secret.encode())
        self.fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, data: dict[str, Any]) -> str:
        return self.fernet.encrypt(json.dumps(data).encode()).decode("ascii")

    def open(self, raw: str, max_age_seconds: float) -> dict[str, Any] | None:
        try:
            data = json.loads(self.fernet.decrypt(raw, ttl=int(max_age_seconds)))
        except (InvalidToken, ValueError):
            return None
        return data if isinstance(data, dict) else None


class SessionMiddleware(BaseHTTPMiddleware):
    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: str,
        idle_seconds: float,
        absolute_seconds: float,
        secure: bool,
    ) -> None:
        super().__init__(app)
        self.cookie = SealedCookie(secret)
        self.idle = idle_seconds
        self.absolute = absolute_seconds
        self.secure = secure

    def load(self, request: Request, now: float) -> Session:
        raw = request.cookies.get(COOKIE)
        session = Session()
        if raw:
            data = self.cookie.open(raw, self.absolute + self.idle)
            if data is not None and not expired(data, now, self.idle, self.absolute):
                session.data = data
        if "created" not in session.data:
            session.fresh(now)
        session.data["seen"] = now
        return session

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path.startswith(("/static/", "/healthz", "/readyz", "/metrics")):
            return await call_next(request)
        session = self.load(request, time.time())
        request.state.session = session
        # Authlib's Starlette client keeps the sign-in's state, nonce and PKCE verifier here.
        request.scope["session"] = session.data
        response = await call_next(request)
        response.set_cookie(
            COOKIE,
            self.cookie.seal(session.data),
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
            max_age=int(self.absolute),
        )
        return response


def session_of(request: Request) -> Session:
    session: Session = request.state.session
    return session

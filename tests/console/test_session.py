"""The session cookie: sealed (encrypted and authenticated), with idle and absolute time-outs."""

from __future__ import annotations

import base64

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import JSONResponse

from services.console.web.session import COOKIE, SealedCookie, SessionMiddleware, session_of

SECRET = "a-test-secret-of-some-length"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.access-token-of-jonas"


def console(idle: float = 60, absolute: float = 3600) -> TestClient:
    app = FastAPI()

    @app.get("/in")
    async def sign_in(request: Request) -> JSONResponse:
        session_of(request).data |= {"sub": "jonas", "access_token": TOKEN}
        return JSONResponse({})

    @app.get("/who")
    async def who(request: Request) -> JSONResponse:
        return JSONResponse({"sub": session_of(request).data.get("sub")})

    app.add_middleware(
        SessionMiddleware, secret=SECRET, idle_seconds=idle, absolute_seconds=absolute, secure=True
    )
    return TestClient(app, base_url="https://console.test")


def test_the_cookie_hides_the_tokens_and_a_changed_cookie_is_a_new_session() -> None:
    client = console()
    client.get("/in")
    sealed = client.cookies[COOKIE]
    readable = sealed + base64.urlsafe_b64decode(sealed + "==").decode("latin-1")
    assert TOKEN not in readable
    assert "jonas" not in readable
    assert client.get("/who").json() == {"sub": "jonas"}
    flipped = "A" if sealed[-6] != "A" else "B"
    client.cookies.set(COOKIE, sealed[:-6] + flipped + sealed[-5:])
    assert client.get("/who").json() == {"sub": None}


def test_a_cookie_sealed_with_another_secret_is_not_opened() -> None:
    other = SealedCookie("another-secret").seal({"sub": "mallory", "created": 0, "seen": 0})
    assert SealedCookie(SECRET).open(other, 3600) is None
    assert SealedCookie("another-secret").open(other, 3600) == {
        "sub": "mallory",
        "created": 0,
        "seen": 0,
    }


def test_an_idle_or_too_old_session_ends() -> None:
    idle = console(idle=-1)
    idle.get("/in")
    assert idle.get("/who").json() == {"sub": None}
    old = console(absolute=-1)
    old.get("/in")
    assert old.get("/who").json() == {"sub": None}

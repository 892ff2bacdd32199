"""Identity figures: what a JWT from the provider costs per request against the static token.

One guarded endpoint (``Viewer``), called in-process through ASGI so that network noise does not
hide a fraction of a millisecond; requests with a JWT (JWKS cache warm) and with the static
token alternate, and the figure is the difference of their medians (issue 13: at most 0.2 ms).
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from bench.common import BenchContext, Figure, median
from shared.auth import GuardedRoute, TokenVerifier, Viewer
from shared.settings import ServiceSettings
from werkbank.idp import CONSOLE_CLIENT_ID, OidcProvider, user_token

ROUNDS = 3000
STATIC = "bench-static-token"


def _app(issuer: str) -> FastAPI:
    router = APIRouter(route_class=GuardedRoute)

    @router.get("/api/ping")
    async def ping(actor: Viewer) -> dict[str, Any]:
        return {"subject": actor.subject}

    app = FastAPI()
    app.include_router(router)
    settings = ServiceSettings(
        oidc_issuer=issuer,
        static_token_enabled=True,
        staff_token=STATIC,  # type: ignore[arg-type]
    )
    app.state.runtime = SimpleNamespace(settings=settings)
    return app


async def run(context: BenchContext) -> list[Figure]:
    provider = OidcProvider()
    provider.start()
    try:
        user = next(iter(provider.store.users.values()))
        token = user_token(
            provider.issuer,
            user.username,
            user.password,
            client_secret=provider.client_secrets[CONSOLE_CLIENT_ID],
        )["access_token"]
        app = _app(provider.issuer)
        transport = httpx.ASGITransport(app=app)
        timings: dict[str, list[float]] = {"jwt": [], "static": []}
        headers = {"jwt": f"Bearer {token}", "static": f"Bearer {STATIC}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for kind in ("jwt", "static"):  # warm up: the JWKS is fetched here, once
                answer = await client.get("/api/ping", headers={"Authorization": headers[kind]})
                assert answer.status_code == 200, answer.text
            for _ in range(ROUNDS):
                for kind in ("jwt", "static"):
                    started = time.perf_counter()
                    answer = await client.get("/api/ping", headers={"Authorization": headers[kind]})
                    timings[kind].append(time.perf_counter() - started)
                    assert answer.status_code == 200
        verify_times: dict[str, list[float]] = {"cached": [], "uncached": []}
        for kind, size in (("cached", 4096), ("uncached", 0)):
            verifier = TokenVerifier(provider.issuer, "werkbank", cache_size=size)
            verifier.fetch_keys()
            for _ in range(ROUNDS):
                started = time.perf_counter()
                verifier.verify(token)
                verify_times[kind].append(time.perf_counter() - started)
    finally:
        provider.stop()
    jwt_ms, static_ms = median(timings["jwt"]) * 1000, median(timings["static"]) * 1000
    return [
        Figure(
            "auth.jwt_overhead_p50",
            jwt_ms - static_ms,
            "ms",
            baseline=static_ms,
            goal="<= 0.2 ms",
            note=f"p50 with JWT {jwt_ms:.3f} ms vs static token {static_ms:.3f} ms, warm JWKS",
        ),
        Figure(
            "auth.verify_p50",
            median(verify_times["cached"]) * 1000,
            "ms",
            note="TokenVerifier.verify alone, a token verified before (cache hit)",
        ),
        Figure(
            "auth.verify_uncached_p50",
            median(verify_times["uncached"]) * 1000,
            "ms",
            note="TokenVerifier.verify without the cache (RS256, signature, iss, aud, exp, nbf)",
        ),
    ]

"""Templates, the page frame (banners, language, CSRF) and the helpers every page uses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request, status
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.responses import RedirectResponse, Response

from services.console.domain.freshness import Freshness
from services.console.settings import ConsoleSettings
from services.console.web.auth import ADMIN_ROLES, may_act, person_of
from services.console.web.session import session_of
from services.console.web.texts import translate
from shared.service import ServiceRuntime, runtime_of

BERLIN = ZoneInfo("Europe/Berlin")
TEMPLATES = Jinja2Blocks(directory=str(Path(__file__).parent.parent / "templates"))


def berlin(value: datetime | None, pattern: str = "%d.%m.%Y %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(BERLIN).strftime(pattern)


TEMPLATES.env.filters["berlin"] = berlin
TEMPLATES.env.globals["urlencode"] = urlencode


def settings_of(request: Request) -> ConsoleSettings:
    settings = runtime_of(request).settings
    assert isinstance(settings, ConsoleSettings)
    return settings


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    """A whole page, or only ``block`` for an htmx request that asks for it."""
    session = session_of(request)
    language = session.language
    runtime = runtime_of(request)
    freshness: Freshness = runtime.state["freshness"]
    behind = freshness.behind_seconds(datetime.now(UTC))
    frame = {
        "lang": language,
        "_": lambda text, **kw: (
            translate(text, language).format(**kw) if kw else translate(text, language)
        ),
        "csrf": session.csrf,
        "person": person_of(request),
        "can_act": may_act(request),
        "can_admin": may_act(request, ADMIN_ROLES),
        "stale_seconds": round(behind) if behind > settings_of(request).stale_after_seconds else 0,
        "path": request.url.path,
        "query": str(request.url.query),
        "flash": session.data.pop("flash", None),
    }
    htmx = request.headers.get("HX-Request") == "true" and block is not None
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {**frame, **context},
        status_code=status_code,
        block_name=block if htmx else None,
    )


async def check_csrf(request: Request) -> None:
    """Every form carries the session's token; a request without it changes nothing."""
    form = await request.form()
    sent = form.get("csrf_token") or request.headers.get("X-CSRF-Token")
    if not sent or sent != session_of(request).csrf:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong")


def flash_and_redirect(request: Request, url: str, message: str) -> RedirectResponse:
    session_of(request).data["flash"] = message
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


async def wait_for(
    runtime: ServiceRuntime, probe: Callable[[Any], Awaitable[bool]], seconds: float
) -> bool:
    """Read-your-writes: wait (briefly) until the action's event has reached the read model."""
    deadline = time.monotonic() + seconds
    while True:
        async with runtime.pool.acquire() as conn:
            if await probe(conn):
                return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)

"""The overview, the language switch and signing out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from services.console import queries
from services.console.web import no_slot
from services.console.web.render import BERLIN, page
from services.console.web.session import session_of
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)


def _day_bounds(now: datetime) -> tuple[datetime, datetime, datetime]:
    local = now.astimezone(BERLIN)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week_end = start + timedelta(days=7 - start.weekday())
    return start, start + timedelta(days=1), week_end


@router.get("/")
async def overview(request: Request) -> Response:
    start, end, week_end = _day_bounds(datetime.now(UTC))
    async with runtime_of(request).pool.acquire() as conn:
        counts = await queries.overview(conn, start, end, week_end)
        counts["no_slot"] = await no_slot.count(conn)
    return page(
        request,
        "overview.html",
        {"counts": counts, "start": start, "end": end, "week_end": week_end},
    )


@router.get("/sprache")
async def language(request: Request, lang: str = "de", next: str = "/") -> Response:
    session_of(request).data["lang"] = "en" if lang == "en" else "de"
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)

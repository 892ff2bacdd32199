"""Termine, Wochenansicht: a week's meetings as a calendar grid, per venue and room."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from services.console.domain.week import grid, week_of
from services.console.web.render import BERLIN, page
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)

_WEEK = """
SELECT meeting_id, title, starts_at, ends_at, status, venue_name, room_name, company_name,
       provider_name
FROM meetings
WHERE starts_at >= $1 AND starts_at < $2 AND status = 'confirmed'
  AND ($3 = '' OR venue_id = $3) AND ($4 = '' OR room_name = $4)
ORDER BY starts_at, meeting_id
LIMIT 2000
"""
_PLACES = """
SELECT DISTINCT venue_id, venue_name, room_name FROM meetings
WHERE starts_at >= $1 AND starts_at < $2 AND venue_id <> ''
ORDER BY venue_name, room_name
"""


async def _places(conn: asyncpg.Connection, since: datetime, until: datetime) -> dict[str, Any]:
    """The venues and rooms with meetings around this week (for the filters)."""
    venues: dict[str, str] = {}
    rooms: dict[str, set[str]] = {}
    for row in await conn.fetch(_PLACES, since, until):
        venues[row["venue_id"]] = row["venue_name"]
        if row["room_name"]:
            rooms.setdefault(row["venue_id"], set()).add(row["room_name"])
    return {"venues": venues, "rooms": {v: sorted(r) for v, r in rooms.items()}}


@router.get("/termine/woche")
async def week_page(
    request: Request,
    woche: Annotated[str, Query(max_length=10)] = "",
    ort: Annotated[str, Query(max_length=100)] = "",
    raum: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    week = week_of(woche, datetime.now(UTC).astimezone(BERLIN).date())
    start, end = week.bounds(BERLIN)
    async with runtime_of(request).pool.acquire() as conn:
        meetings = [dict(r) for r in await conn.fetch(_WEEK, start, end, ort, raum)]
        places = await _places(
            conn, week.previous().bounds(BERLIN)[0], week.next().bounds(BERLIN)[1]
        )
    days, rows = grid(week, meetings, BERLIN)
    place = {k: v for k, v in {"ort": ort, "raum": raum}.items() if v}
    return page(
        request,
        "week.html",
        {
            "week": week,
            "days": days,
            "rows": rows,
            "count": len(meetings),
            "filters": {"woche": week.label, "ort": ort, "raum": raum},
            "places": places,
            "previous_query": urlencode({"woche": week.previous().label, **place}),
            "next_query": urlencode({"woche": week.next().label, **place}),
            "this_query": urlencode(place),
        },
        block="calendar",
    )

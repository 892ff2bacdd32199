"""Ohne freien Termin: accepted matches for which booking found no free slot.

Booking answers such a match by dead-lettering it with the reason "no free slot …"; staff add
rooms, opening hours or availability and replay it (Störungen), or reschedule by hand.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from starlette.responses import Response

from services.console.web.render import page
from shared.events.streams import BOOKING_ON_MATCHING
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)

_OPEN = """
WITH found AS MATERIALIZED (
    SELECT event_id, dead_lettered_at, reason, original_body FROM dead_letters
    WHERE state = 'open' AND consumer = $1 AND reason LIKE '%no free slot within%'
)
SELECT f.event_id::text AS event_id, f.dead_lettered_at, f.reason,
       f.original_body::jsonb -> 'data' -> 'need' ->> 'need_id' AS need_id,
       f.original_body::jsonb -> 'data' -> 'need' ->> 'title' AS title
FROM found f ORDER BY f.dead_lettered_at DESC LIMIT 200
"""
_COUNT = """
SELECT count(*) FROM dead_letters
WHERE state = 'open' AND consumer = $1 AND reason LIKE '%no free slot within%'
"""


async def count(conn: asyncpg.Connection) -> int:
    found: int = await conn.fetchval(_COUNT, BOOKING_ON_MATCHING.durable)
    return found


async def unbooked(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(_OPEN, BOOKING_ON_MATCHING.durable)]


@router.get("/termine/ohne-freie-zeit")
async def no_slot_page(request: Request) -> Response:
    async with runtime_of(request).pool.acquire() as conn:
        rows = await unbooked(conn)
    return page(request, "no_slot.html", {"rows": rows})

"""Protokoll: who did what, across services; per need, meeting or person, by action and period."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from services.console import audit_trail
from services.console.domain.paging import decode_cursor
from services.console.web.needs import parse_day
from services.console.web.render import page, settings_of
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)


@router.get("/protokoll")
async def audit_page(
    request: Request,
    bedarf: Annotated[str, Query(max_length=200)] = "",
    termin: Annotated[str, Query(max_length=200)] = "",
    person: Annotated[str, Query(max_length=200)] = "",
    aktion: Annotated[str, Query(max_length=100)] = "",
    von: Annotated[str, Query(max_length=10)] = "",
    bis: Annotated[str, Query(max_length=10)] = "",
    nach: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    filters = {
        "bedarf": bedarf.strip(),
        "termin": termin.strip(),
        "person": person.strip(),
        "aktion": aktion.strip(),
        "von": von,
        "bis": bis,
    }
    until = parse_day(bis)
    async with runtime_of(request).pool.acquire() as conn:
        result = await audit_trail.trail(
            conn,
            need_id=filters["bedarf"],
            meeting_id=filters["termin"],
            actor=filters["person"],
            action=filters["aktion"],
            since=parse_day(von),
            until=until + timedelta(days=1) if until else None,
            cursor=decode_cursor(nach),
            limit=settings_of(request).page_size,
        )
        known_actions = await audit_trail.actions(conn)
    return page(
        request,
        "audit.html",
        {
            "rows": result.rows,
            "next_cursor": result.next_cursor,
            "cursor": nach,
            "filters": filters,
            "actions": known_actions,
            "base_query": urlencode({k: v for k, v in filters.items() if v}),
        },
        block="results",
    )

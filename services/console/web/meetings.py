"""Termine: the list, a meeting's page (attendees, RSVP, deliveries) and its actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from starlette.responses import Response

from services.console import queries
from services.console.clients import ApiError, ServiceUnavailableError
from services.console.domain.paging import choose_sort, decode_cursor
from services.console.domain.problems import Problem
from services.console.web.auth import may_act, token_for
from services.console.web.needs import parse_day, services_of
from services.console.web.render import (
    BERLIN,
    check_csrf,
    flash_and_redirect,
    page,
    settings_of,
    wait_for,
)
from services.console.web.session import session_of
from services.console.web.texts import translate
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)
FREE_SLOTS = 10


@router.get("/termine")
async def meeting_list(
    request: Request,
    status: Annotated[str, Query(max_length=20)] = "",
    ort: Annotated[str, Query(max_length=100)] = "",
    von: Annotated[str, Query(max_length=10)] = "",
    bis: Annotated[str, Query(max_length=10)] = "",
    teilnahme: Annotated[str, Query(max_length=10)] = "",
    sort: Annotated[str, Query(max_length=20)] = "beginn",
    nach: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    chosen = choose_sort(queries.MEETING_SORTS, sort, "beginn")
    status = status if status in ("confirmed", "cancelled") else ""
    teilnahme = teilnahme if teilnahme in ("held", "no_show") else ""
    until = parse_day(bis)
    filters = {
        "status": status,
        "ort": ort,
        "von": von,
        "bis": bis,
        "teilnahme": teilnahme,
        "sort": chosen.key,
    }
    async with runtime_of(request).pool.acquire() as conn:
        result = await queries.meetings(
            conn,
            status=status,
            venue=ort.strip(),
            since=parse_day(von),
            until=until + timedelta(days=1) if until else None,
            attendance=teilnahme,
            sort=chosen,
            cursor=decode_cursor(nach),
            limit=settings_of(request).page_size,
        )
    base_query = urlencode({k: v for k, v in filters.items() if v})
    return page(
        request,
        "meetings.html",
        {
            "rows": result.rows,
            "next_cursor": result.next_cursor,
            "cursor": nach,
            "filters": filters,
            "base_query": base_query,
        },
        block="results",
    )


async def meeting_context(conn: asyncpg.Connection, meeting_id: str) -> dict[str, Any]:
    meeting = await queries.meeting(conn, meeting_id)
    if meeting is None:
        raise HTTPException(404, "meeting not found")
    return {
        "meeting": meeting,
        "attendees": await queries.attendees(conn, meeting_id),
        "deliveries": await queries.deliveries_of(conn, meeting_id),
        "form": {},
    }


async def with_free_slots(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    """The slot picker's times, from booking's own search; none (and a note) if it is down."""
    meeting = context["meeting"]
    if meeting["status"] != "confirmed" or not may_act(request):
        return context
    try:
        found = await services_of(request).call(
            "booking",
            "GET",
            f"/api/booking/meetings/{meeting['meeting_id']}/free-slots?count={FREE_SLOTS}",
            token_for(request),
        )
    except (ApiError, ServiceUnavailableError):
        return {**context, "slots": [], "slots_missing": True}
    slots = [datetime.fromisoformat(s["start"]).astimezone(BERLIN) for s in found]
    return {**context, "slots": slots}


@router.get("/termine/{meeting_id}")
async def meeting_page(request: Request, meeting_id: str) -> Response:
    async with runtime_of(request).pool.acquire() as conn:
        context = await meeting_context(conn, meeting_id)
    return page(request, "meeting.html", await with_free_slots(request, context))


async def _act(
    request: Request,
    meeting_id: str,
    path: str,
    body: dict[str, Any],
    form: dict[str, str],
    arrived: str,
) -> Response:
    """Call booking, wait until the read model shows ``arrived`` (SQL on the meeting row)."""
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as conn:
        sequence = await conn.fetchval(
            "SELECT sequence FROM meetings WHERE meeting_id = $1", meeting_id
        )
    try:
        await services_of(request).call(
            "booking",
            "POST",
            f"/api/booking/meetings/{meeting_id}/{path}",
            token_for(request),
            json=body,
        )
    except (ApiError, ServiceUnavailableError) as exc:
        async with runtime.pool.acquire() as conn:
            context = await meeting_context(conn, meeting_id)
        context = await with_free_slots(request, {**context, "form": form})
        if isinstance(exc, ServiceUnavailableError):
            return page(
                request, "meeting.html", {**context, "unavailable": exc.service}, status_code=503
            )
        return page(
            request,
            "meeting.html",
            {**context, "problem": exc.problem},
            status_code=exc.problem.status,
        )

    async def done(conn: asyncpg.Connection) -> bool:
        return bool(
            await conn.fetchval(
                f"SELECT true FROM meetings WHERE meeting_id = $1 AND ({arrived})",
                meeting_id,
                sequence,
            )
        )

    await wait_for(runtime, done, settings_of(request).action_wait_seconds)
    message = translate("Erledigt.", session_of(request).language)
    return flash_and_redirect(request, f"/termine/{meeting_id}", message)


def _start_from(choice: str, custom: str) -> datetime | None:
    text = custom or choice
    if not text:
        return None
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        return None
    return start if start.tzinfo else start.replace(tzinfo=BERLIN)


@router.post("/termine/{meeting_id}/verschieben", dependencies=[Depends(check_csrf)])
async def reschedule(
    request: Request,
    meeting_id: str,
    slot: Annotated[str, Form(max_length=40)] = "",
    start: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    chosen = _start_from(slot, start)
    form = {"slot": slot, "start": start, "reason": reason}
    if chosen is None:
        problem = Problem(
            422,
            "Bitte prüfen Sie die markierten Angaben.",
            {"start": "Bitte eine freie Zeit wählen oder Datum und Uhrzeit angeben."},
        )
        async with runtime_of(request).pool.acquire() as conn:
            context = await meeting_context(conn, meeting_id)
        context = await with_free_slots(request, {**context, "form": form})
        return page(request, "meeting.html", {**context, "problem": problem}, status_code=422)
    body = {"start": chosen.isoformat(), "reason": reason}
    return await _act(request, meeting_id, "reschedule", body, form, "sequence > $2")


@router.post("/termine/{meeting_id}/absagen", dependencies=[Depends(check_csrf)])
async def cancel(
    request: Request, meeting_id: str, reason: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    form = {"cancel_reason": reason}
    return await _act(
        request,
        meeting_id,
        "cancel",
        {"reason": reason},
        form,
        "status = 'cancelled' AND $2::int IS NOT DISTINCT FROM $2",
    )


@router.post("/termine/{meeting_id}/teilnahme", dependencies=[Depends(check_csrf)])
async def attendance(
    request: Request, meeting_id: str, status: Annotated[str, Form(pattern="^(held|no_show)$")]
) -> Response:
    return await _act(
        request,
        meeting_id,
        "attendance",
        {"status": status},
        {},
        "attendance IS NOT NULL AND $2::int IS NOT DISTINCT FROM $2",
    )

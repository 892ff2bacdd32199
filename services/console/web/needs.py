"""Bedarfe: the list with filters and full-text search, a need's page and its actions."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from starlette.responses import Response

from services.console import queries
from services.console.clients import ApiError, Services, ServiceUnavailableError
from services.console.domain.explain import bars, tied_ranks
from services.console.domain.paging import choose_sort, decode_cursor
from services.console.web.auth import token_for
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
STATUSES = ("open", "proposed", "accepted", "booked")


def parse_day(text: str | None) -> datetime | None:
    """A day from a filter field (YYYY-MM-DD), as midnight in Berlin; None if unreadable."""
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(0), BERLIN)
    except ValueError:
        return None


def services_of(request: Request) -> Services:
    services: Services = runtime_of(request).state["services"]
    return services


@router.get("/bedarfe")
async def need_list(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    kategorie: Annotated[str, Query(max_length=64)] = "",
    ort: Annotated[str, Query(max_length=100)] = "",
    seit: Annotated[str, Query(max_length=10)] = "",
    abgesagt: Annotated[str, Query(max_length=2)] = "",
    sort: Annotated[str, Query(max_length=20)] = "neu",
    nach: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    chosen = choose_sort(queries.NEED_SORTS, sort, "neu")
    filters = {
        "q": q,
        "status": status if status in STATUSES else "",
        "kategorie": kategorie,
        "ort": ort,
        "seit": seit,
        "abgesagt": abgesagt,
        "sort": chosen.key,
    }
    async with runtime_of(request).pool.acquire() as conn:
        result = await queries.needs(
            conn,
            text=q.strip(),
            status=filters["status"],
            category=kategorie.strip(),
            district=ort.strip(),
            since=parse_day(seit),
            declined_twice=abgesagt == "2",
            sort=chosen,
            cursor=decode_cursor(nach),
            limit=settings_of(request).page_size,
        )
    base_query = urlencode({k: v for k, v in filters.items() if v})
    return page(
        request,
        "needs.html",
        {
            "rows": result.rows,
            "next_cursor": result.next_cursor,
            "cursor": nach,
            "filters": filters,
            "statuses": STATUSES,
            "base_query": base_query,
        },
        block="results",
    )


async def need_context(conn: asyncpg.Connection, need_id: str, language: str) -> dict[str, Any]:
    need = await queries.need(conn, need_id)
    if need is None:
        raise HTTPException(404, "need not found")
    proposals = await queries.proposals(conn, need_id, need["last_run_id"])
    tied = tied_ranks([(p["rank"], p["score"]) for p in proposals])
    for proposal in proposals:
        proposal["bars"] = bars(proposal["breakdown"], language)
        proposal["tied"] = proposal["rank"] in tied
    return {
        "need": need,
        "proposals": proposals,
        "tie": bool(tied),
        "runs": await queries.runs_of(conn, need_id),
        "meetings": await queries.meetings_of_need(conn, need_id),
    }


async def with_overrides(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    """The need's pins and blocks, from matching (the read model has no event for them)."""
    need_id = context["need"]["need_id"]
    try:
        found = await services_of(request).call(
            "matching", "GET", f"/api/matching/needs/{need_id}/overrides", token_for(request)
        )
    except (ApiError, ServiceUnavailableError):
        return {**context, "overrides": None}
    async with runtime_of(request).pool.acquire() as conn:
        names = dict(
            await conn.fetch(
                "SELECT provider_id, name FROM providers WHERE provider_id = ANY($1::text[])",
                [o["provider_id"] for o in found],
            )
        )
    for override in found:
        override["provider_name"] = names.get(override["provider_id"], override["provider_id"])
    return {**context, "overrides": found}


@router.get("/bedarfe/{need_id}")
async def need_page(request: Request, need_id: str) -> Response:
    async with runtime_of(request).pool.acquire() as conn:
        context = await need_context(conn, need_id, session_of(request).language)
    return page(request, "need.html", await with_overrides(request, context))


async def _need_failure(
    request: Request, need_id: str, exc: ApiError | ServiceUnavailableError, form: dict[str, str]
) -> Response:
    async with runtime_of(request).pool.acquire() as conn:
        context = await need_context(conn, need_id, session_of(request).language)
    context = await with_overrides(request, context)
    if isinstance(exc, ServiceUnavailableError):
        return page(
            request,
            "need.html",
            {**context, "unavailable": exc.service, "form": form},
            status_code=503,
        )
    return page(
        request,
        "need.html",
        {**context, "problem": exc.problem, "form": form},
        status_code=exc.problem.status,
    )


@router.post("/bedarfe/{need_id}/abgleichen", dependencies=[Depends(check_csrf)])
async def match_again(request: Request, need_id: str) -> Response:
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as conn:
        before = await conn.fetchval("SELECT last_run_id FROM needs WHERE need_id = $1", need_id)
    try:
        await services_of(request).call(
            "matching", "POST", f"/api/matching/needs/{need_id}/match", token_for(request)
        )
    except (ApiError, ServiceUnavailableError) as exc:
        return await _need_failure(request, need_id, exc, {})

    async def new_run(conn: asyncpg.Connection) -> bool:
        now = await conn.fetchval("SELECT last_run_id FROM needs WHERE need_id = $1", need_id)
        return bool(now) and now != before

    await wait_for(runtime, new_run, settings_of(request).action_wait_seconds)
    message = translate("Erledigt.", session_of(request).language)
    return flash_and_redirect(request, f"/bedarfe/{need_id}", message)


async def _decide(
    request: Request, need_id: str, proposal_id: str, action: str, reason: str
) -> Response:
    runtime = runtime_of(request)
    body = None if action == "accept" else {"reason": reason}
    try:
        await services_of(request).call(
            "matching",
            "POST",
            f"/api/matching/proposals/{proposal_id}/{action}",
            token_for(request),
            json=body,
        )
    except (ApiError, ServiceUnavailableError) as exc:
        return await _need_failure(request, need_id, exc, {"reason": reason})
    wanted = "accepted" if action == "accept" else "declined"

    async def decided(conn: asyncpg.Connection) -> bool:
        state = await conn.fetchval(
            "SELECT status FROM proposals WHERE proposal_id = $1", proposal_id
        )
        return bool(state == wanted)

    await wait_for(runtime, decided, settings_of(request).action_wait_seconds)
    message = translate("Erledigt.", session_of(request).language)
    return flash_and_redirect(request, f"/bedarfe/{need_id}", message)


@router.post(
    "/bedarfe/{need_id}/vorschlaege/{proposal_id}/annehmen", dependencies=[Depends(check_csrf)]
)
async def accept(request: Request, need_id: str, proposal_id: str) -> Response:
    return await _decide(request, need_id, proposal_id, "accept", "")


@router.post(
    "/bedarfe/{need_id}/vorschlaege/{proposal_id}/ablehnen", dependencies=[Depends(check_csrf)]
)
async def decline(
    request: Request,
    need_id: str,
    proposal_id: str,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    return await _decide(request, need_id, proposal_id, "decline", reason)

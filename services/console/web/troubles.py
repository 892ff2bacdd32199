"""Störungen (dead letters: grouped, replay or discard after confirmation) and Zustellungen
(failed and pending deliveries, resend)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from starlette.responses import Response

from services.console import queries, replay, repository
from services.console.clients import ApiError, ServiceUnavailableError
from services.console.domain.paging import decode_cursor
from services.console.domain.problems import Problem, forbidden_message
from services.console.web import own_audit
from services.console.web.auth import may_act, token_for
from services.console.web.needs import services_of
from services.console.web.render import check_csrf, flash_and_redirect, page, settings_of, wait_for
from services.console.web.session import session_of
from services.console.web.texts import translate
from shared.db import transaction
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)


@router.get("/stoerungen")
async def dead_letters(request: Request) -> Response:
    async with runtime_of(request).pool.acquire() as conn:
        groups = await queries.dead_letter_groups(conn)
    return page(request, "dead_letters.html", {"groups": groups})


@router.get("/stoerungen/{event_id}")
async def confirm(
    request: Request, event_id: str, aktion: Annotated[str, Query(pattern="^(replay|discard)$")]
) -> Response:
    async with runtime_of(request).pool.acquire() as conn:
        letter = await queries.dead_letter(conn, event_id)
    if letter is None:
        raise HTTPException(404)
    return page(request, "dead_letter_confirm.html", {"letter": letter, "action": aktion})


@router.post("/stoerungen/{event_id}", dependencies=[Depends(check_csrf)])
async def settle(
    request: Request, event_id: str, aktion: Annotated[str, Form(pattern="^(replay|discard)$")]
) -> Response:
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as conn:
        letter = await queries.dead_letter(conn, event_id)
    if letter is None:
        raise HTTPException(404)
    action = "replay_dead_letter" if aktion == "replay" else "discard_dead_letter"
    targets = {"event_id": str(letter["event_id"]), "consumer": str(letter["consumer"])}
    if not may_act(request):
        # Replays go over the console's own operator connection: no service checks the role.
        async with transaction(runtime.pool) as conn:
            await own_audit.record(conn, request, action, 403, **targets)
        problem = Problem(403, forbidden_message("needs the role 'staff'"))
        return page(
            request,
            "dead_letter_confirm.html",
            {"letter": letter, "action": aktion, "problem": problem},
            status_code=403,
        )
    if aktion == "replay":
        try:
            await replay.replay(runtime, letter)
        except replay.ReplayUnavailableError:
            async with transaction(runtime.pool) as conn:
                await own_audit.record(conn, request, action, 503, **targets)
            problem = Problem(
                503,
                "Zum erneuten Einspielen ist keine Betriebsverbindung "
                "(CONSOLE_REPLAY_NATS_URL) eingerichtet.",
            )
            return page(
                request,
                "dead_letter_confirm.html",
                {"letter": letter, "action": aktion, "problem": problem},
                status_code=503,
            )
    async with transaction(runtime.pool) as conn:
        await repository.settle_dead_letter(
            conn, letter["event_id"], "replayed" if aktion == "replay" else "discarded"
        )
        await own_audit.record(conn, request, action, 303, **targets)
    message = translate("Erledigt.", session_of(request).language)
    return flash_and_redirect(request, "/stoerungen", message)


@router.get("/zustellungen")
async def deliveries(
    request: Request,
    status: Annotated[str, Query(max_length=10)] = "",
    nach: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    status = status if status in ("failed", "pending", "delivered") else ""
    async with runtime_of(request).pool.acquire() as conn:
        result = await queries.deliveries(
            conn, status=status, cursor=decode_cursor(nach), limit=settings_of(request).page_size
        )
    return page(
        request,
        "deliveries.html",
        {
            "rows": result.rows,
            "next_cursor": result.next_cursor,
            "cursor": nach,
            "filters": {"status": status},
            "base_query": f"status={status}" if status else "",
        },
        block="results",
    )


@router.post("/zustellungen/{delivery_id}/erneut", dependencies=[Depends(check_csrf)])
async def resend(request: Request, delivery_id: str) -> Response:
    runtime = runtime_of(request)
    try:
        await services_of(request).call(
            "notify", "POST", f"/api/notify/deliveries/{delivery_id}/resend", token_for(request)
        )
    except (ApiError, ServiceUnavailableError) as exc:
        async with runtime.pool.acquire() as conn:
            result = await queries.deliveries(
                conn, status="", cursor=None, limit=settings_of(request).page_size
            )
        context = {
            "rows": result.rows,
            "next_cursor": result.next_cursor,
            "cursor": "",
            "filters": {"status": ""},
            "base_query": "",
        }
        if isinstance(exc, ServiceUnavailableError):
            return page(
                request, "deliveries.html", {**context, "unavailable": exc.service}, status_code=503
            )
        return page(
            request,
            "deliveries.html",
            {**context, "problem": exc.problem},
            status_code=exc.problem.status,
        )

    async def settled(conn: asyncpg.Connection) -> bool:
        state = await conn.fetchval(
            "SELECT status FROM deliveries WHERE delivery_id = $1", delivery_id
        )
        return bool(state == "delivered")

    await wait_for(runtime, settled, settings_of(request).action_wait_seconds)
    message = translate("Erledigt.", session_of(request).language)
    return flash_and_redirect(request, "/zustellungen", message)

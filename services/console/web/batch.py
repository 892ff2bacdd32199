"""Batch: choose open needs, let matching compute the allocation as a background job, preview
who gets whom and who stays unassigned and why, then confirm it (or discard it)."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from services.console.clients import ApiError, ServiceUnavailableError
from services.console.web.auth import token_for
from services.console.web.needs import services_of
from services.console.web.render import check_csrf, flash_and_redirect, page
from services.console.web.session import session_of
from services.console.web.texts import translate
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)
MAX_CHOSEN = 5000
_OPEN_NEEDS = """
SELECT n.need_id, n.title, c.name AS company_name FROM needs n
LEFT JOIN companies c USING (company_id)
WHERE n.status IN ('open', 'proposed') ORDER BY n.updated_at DESC LIMIT 200
"""


async def _choose(request: Request, **extra: Any) -> Response:
    async with runtime_of(request).pool.acquire() as conn:
        rows = [dict(r) for r in await conn.fetch(_OPEN_NEEDS)]
    status = (
        503 if "unavailable" in extra else extra["problem"].status if "problem" in extra else 200
    )
    return page(
        request, "batch.html", {"needs": rows, "step": "choose", **extra}, status_code=status
    )


@router.get("/batch")
async def batch_form(request: Request) -> Response:
    return await _choose(request)


@router.post("/batch", dependencies=[Depends(check_csrf)])
async def start_batch(request: Request) -> Response:
    form = await request.form()
    chosen = [str(v) for v in form.getlist("need_id")][:MAX_CHOSEN]
    try:
        job = await services_of(request).call(
            "matching", "POST", "/api/matching/batch", token_for(request), json={"need_ids": chosen}
        )
    except ServiceUnavailableError as exc:
        return await _choose(request, unavailable=exc.service)
    except ApiError as exc:
        return await _choose(request, problem=exc.problem)
    return flash_and_redirect(
        request, f"/batch/{job['job_id']}", _text(request, "Vorschau wird berechnet.")
    )


def _text(request: Request, german: str) -> str:
    return translate(german, session_of(request).language)


async def _labels(
    conn: asyncpg.Connection, need_ids: list[str], provider_ids: list[str]
) -> dict[str, dict[str, str]]:
    needs = await conn.fetch(
        "SELECT need_id, title FROM needs WHERE need_id = ANY($1::text[])", need_ids
    )
    providers = await conn.fetch(
        "SELECT provider_id, name FROM providers WHERE provider_id = ANY($1::text[])", provider_ids
    )
    return {
        "needs": {r["need_id"]: r["title"] for r in needs},
        "providers": {r["provider_id"]: r["name"] for r in providers},
    }


def _job_failed(request: Request, exc: ApiError | ServiceUnavailableError) -> Response:
    if isinstance(exc, ServiceUnavailableError):
        context: dict[str, Any] = {"unavailable": exc.service}
        status = 503
    else:
        context, status = {"problem": exc.problem}, exc.problem.status
    return page(request, "batch.html", {"step": "job", "job": None, **context}, status_code=status)


@router.get("/batch/{job_id}")
async def batch_job(request: Request, job_id: str) -> Response:
    try:
        job = await services_of(request).call(
            "matching", "GET", f"/api/matching/batch/{job_id}", token_for(request)
        )
    except (ApiError, ServiceUnavailableError) as exc:
        return _job_failed(request, exc)
    result = job.get("result") or {}
    assignments = result.get("assignments", [])
    unassigned = result.get("unassigned", [])
    async with runtime_of(request).pool.acquire() as conn:
        labels = await _labels(
            conn,
            [a["need_id"] for a in assignments] + [u["need_id"] for u in unassigned],
            [a["provider_id"] for a in assignments],
        )
    return page(
        request,
        "batch.html",
        {
            "step": "job",
            "job": job,
            "assignments": assignments,
            "unassigned": unassigned,
            "labels": labels,
        },
        block="job",
    )


async def _settle(request: Request, job_id: str, action: str, message: str) -> Response:
    try:
        await services_of(request).call(
            "matching", "POST", f"/api/matching/batch/{job_id}/{action}", token_for(request)
        )
    except (ApiError, ServiceUnavailableError) as exc:
        return _job_failed(request, exc)
    return flash_and_redirect(request, f"/batch/{job_id}", _text(request, message))


@router.post("/batch/{job_id}/bestaetigen", dependencies=[Depends(check_csrf)])
async def confirm_batch(request: Request, job_id: str) -> Response:
    return await _settle(
        request, job_id, "commit", "Zuteilung bestätigt; die Vorschläge sind angelegt."
    )


@router.post("/batch/{job_id}/verwerfen", dependencies=[Depends(check_csrf)])
async def discard_batch(request: Request, job_id: str) -> Response:
    return await _settle(request, job_id, "cancel", "Vorschau verworfen.")

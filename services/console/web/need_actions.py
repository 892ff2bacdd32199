"""A need's further actions: pin or block a provider (matching's overrides), and replay a run
from its recorded inputs to see whether it still gives the recorded result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from services.console.clients import ApiError, ServiceUnavailableError
from services.console.domain.problems import Problem
from services.console.web.auth import token_for
from services.console.web.needs import _need_failure, services_of
from services.console.web.render import check_csrf, flash_and_redirect, page
from services.console.web.session import session_of
from services.console.web.texts import translate
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)
PATHS = {"pin": "pins", "block": "blocks"}


def _done(request: Request, need_id: str) -> Response:
    message = translate("Erledigt.", session_of(request).language)
    return flash_and_redirect(request, f"/bedarfe/{need_id}", message)


@router.post("/bedarfe/{need_id}/anbieter", dependencies=[Depends(check_csrf)])
async def override(
    request: Request,
    need_id: str,
    provider_id: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    form = {"provider_id": provider_id, "kind": kind, "override_reason": reason}
    provider_id = provider_id.strip()
    if not provider_id or kind not in PATHS:
        fields = {}
        if not provider_id:
            fields["provider_id"] = "Bitte einen Anbieter angeben."
        if kind not in PATHS:
            fields["kind"] = "Bitte „festsetzen“ oder „ausschließen“ wählen."
        problem = Problem(422, "Bitte prüfen Sie die markierten Angaben.", fields)
        return await _need_failure(request, need_id, ApiError(problem), form)
    try:
        await services_of(request).call(
            "matching",
            "PUT",
            f"/api/matching/needs/{need_id}/{PATHS[kind]}/{provider_id}",
            token_for(request),
            json={"reason": reason},
        )
    except ApiError as exc:
        if exc.problem.status == 404 and not exc.problem.fields:
            exc.problem.fields["provider_id"] = "Diesen Anbieter gibt es nicht."
        return await _need_failure(request, need_id, exc, form)
    except ServiceUnavailableError as exc:
        return await _need_failure(request, need_id, exc, form)
    return _done(request, need_id)


@router.post(
    "/bedarfe/{need_id}/anbieter/{provider_id}/aufheben", dependencies=[Depends(check_csrf)]
)
async def lift_override(request: Request, need_id: str, provider_id: str) -> Response:
    try:
        await services_of(request).call(
            "matching",
            "DELETE",
            f"/api/matching/needs/{need_id}/overrides/{provider_id}",
            token_for(request),
        )
    except (ApiError, ServiceUnavailableError) as exc:
        return await _need_failure(request, need_id, exc, {})
    return _done(request, need_id)


async def _names(request: Request, provider_ids: list[str]) -> dict[str, str]:
    async with runtime_of(request).pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT provider_id, name FROM providers WHERE provider_id = ANY($1::text[])",
            provider_ids,
        )
    return {row["provider_id"]: row["name"] for row in rows}


@router.post(
    "/bedarfe/{need_id}/abgleiche/{run_id}/nachrechnen", dependencies=[Depends(check_csrf)]
)
async def replay_run(request: Request, need_id: str, run_id: str) -> Response:
    try:
        result: dict[str, Any] = await services_of(request).call(
            "matching", "POST", f"/api/matching/runs/{run_id}/replay", token_for(request)
        )
    except (ApiError, ServiceUnavailableError) as exc:
        return await _need_failure(request, need_id, exc, {})
    recorded = result["recorded"].get("proposals", [])
    replayed = result["replayed"].get("proposals", [])
    names = await _names(request, [p for p, _ in recorded + replayed])
    return page(
        request,
        "run_replay.html",
        {
            "need_id": need_id,
            "run_id": run_id,
            "same": result["same"],
            "recorded": recorded,
            "replayed": replayed,
            "names": names,
        },
    )

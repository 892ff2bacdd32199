"""The staff HTTP API of the notify service: the delivery log, and resending."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status

from services.notify import consent, repository, service
from shared import audit
from shared.auth import GuardedRoute, Staff, Viewer
from shared.db import transaction
from shared.events.streams import NOTIFY_ON_BOOKING
from shared.service import runtime_of

router = APIRouter(prefix="/api/notify", tags=["notify"], route_class=GuardedRoute)


@router.get("/deliveries")
async def deliveries(
    request: Request,
    _: Viewer,
    meeting_id: Annotated[str | None, Query(max_length=64)] = None,
    contact_id: Annotated[str | None, Query(max_length=64)] = None,
    status_filter: Annotated[str | None, Query(alias="status", max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        return await repository.search(conn, meeting_id, contact_id, status_filter, limit)


@router.post("/deliveries/{delivery_id}/resend")
async def resend(delivery_id: str, request: Request, _: Staff) -> dict[str, str]:
    runtime = runtime_of(request)
    async with transaction(runtime.pool) as conn:
        if await consent.withdrawn_for(conn, delivery_id):
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                "the recipient has withdrawn consent to SMS: this SMS may not be resent",
            )
        if await repository.reopen(conn, delivery_id) is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "only a failed or dead delivery can be resent"
            )
        await audit.record(conn, request)
    outcome = await service.attempt(
        runtime.pool, runtime.state["outbound"], delivery_id, NOTIFY_ON_BOOKING.max_deliver
    )
    return {"delivery_id": delivery_id, "outcome": outcome}

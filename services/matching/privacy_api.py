"""Staff endpoints for data subjects' requests: erasure (Art. 17) and access (Art. 15)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from services.matching import export, privacy
from services.matching.settings import MatchingSettings
from shared import audit
from shared.auth import Admin, GuardedRoute
from shared.db import transaction
from shared.service import runtime_of

router = APIRouter(prefix="/api/matching/privacy", tags=["privacy"], route_class=GuardedRoute)
Id = Field(default=None, min_length=1, max_length=64)


class ErasureIn(BaseModel):
    """Exactly one of: a contact (by id or email address), a company or a provider."""

    model_config = ConfigDict(extra="forbid")

    contact_id: str | None = Id
    email: EmailStr | None = None
    company_id: str | None = Id
    provider_id: str | None = Id

    @model_validator(mode="after")
    def exactly_one(self) -> ErasureIn:
        given = [v for v in (self.contact_id, self.email, self.company_id, self.provider_id) if v]
        if len(given) != 1:
            msg = "give exactly one of contact_id, email, company_id, provider_id"
            raise ValueError(msg)
        return self


def _overdue_after(request: Request) -> timedelta:
    settings = runtime_of(request).settings
    assert isinstance(settings, MatchingSettings)
    return timedelta(hours=settings.erasure_overdue_hours)


@router.post("/erasures", status_code=status.HTTP_202_ACCEPTED)
async def request_erasure(body: ErasureIn, request: Request, actor: Admin) -> dict[str, Any]:
    try:
        async with transaction(runtime_of(request).pool) as conn:
            event = await privacy.request_erasure(
                conn,
                requested_by=actor.subject,
                contact_id=body.contact_id,
                email=str(body.email) if body.email else None,
                company_id=body.company_id,
                provider_id=body.provider_id,
            )
            await audit.record(conn, request, status=status.HTTP_202_ACCEPTED)
    except privacy.NobodyFoundError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            {"field": "body", "message": "no contact or organisation matches the request"},
        ) from None
    return {
        "request_id": event.request_id,
        "scope": event.scope,
        "contact_ids": list(event.contact_ids),
        "party_ids": list(event.party_ids),
        "status": "requested",
    }


@router.get("/erasures")
async def list_erasures(request: Request, _: Admin) -> list[dict[str, Any]]:
    return await privacy.erasure_requests(runtime_of(request), _overdue_after(request))


@router.get("/erasures/{request_id}")
async def get_erasure(
    request: Request, _: Admin, request_id: str = Path(max_length=64)
) -> dict[str, Any]:
    found = await privacy.erasure_requests(runtime_of(request), _overdue_after(request), request_id)
    if not found:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, {"field": "request_id", "message": "no such request"}
        )
    return found[0]


class ExportIn(BaseModel):
    """Exactly one of: a contact (by id or email address), a company or a provider (all of
    its contacts)."""

    model_config = ConfigDict(extra="forbid")

    contact_id: str | None = Id
    email: EmailStr | None = None
    company_id: str | None = Id
    provider_id: str | None = Id

    @model_validator(mode="after")
    def exactly_one(self) -> ExportIn:
        given = [v for v in (self.contact_id, self.email, self.company_id, self.provider_id) if v]
        if len(given) != 1:
            msg = "give exactly one of contact_id, email, company_id, provider_id"
            raise ValueError(msg)
        return self


@router.post("/exports", status_code=status.HTTP_202_ACCEPTED)
async def request_export(body: ExportIn, request: Request, actor: Admin) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        event = await export.request_export(
            conn,
            requested_by=actor.subject,
            contact_id=body.contact_id,
            email=str(body.email) if body.email else None,
            company_id=body.company_id,
            provider_id=body.provider_id,
        )
        if event is not None:
            await audit.record(conn, request, status=status.HTTP_202_ACCEPTED)
    if event is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, {"field": "body", "message": "no contact matches"}
        )
    return {"request_id": event.request_id, "contact_ids": list(event.contact_ids)}


async def _export(request: Request, request_id: str) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        document = await export.assembled(conn, request_id)
    if document is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, {"field": "request_id", "message": "no such request"}
        )
    return document


@router.get("/exports/{request_id}")
async def get_export(
    request: Request, _: Admin, request_id: str = Path(max_length=64)
) -> dict[str, Any]:
    """The machine-readable export: per service, per table, every row naming the person."""
    return await _export(request, request_id)


@router.get("/exports/{request_id}/summary", response_class=HTMLResponse)
async def get_export_summary(
    request: Request, _: Admin, request_id: str = Path(max_length=64)
) -> HTMLResponse:
    """The same export as a readable German HTML page."""
    return HTMLResponse(export.summary_html(await _export(request, request_id)))

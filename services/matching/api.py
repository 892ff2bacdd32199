"""The staff HTTP API of the matching service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status

from services.matching import repository, service
from services.matching.domain.model import Taxonomy
from services.matching.schemas import CompanyIn, Decision, NeedIn, ProviderIn
from shared.db import transaction
from shared.http import StaffOnly
from shared.service import runtime_of

router = APIRouter(prefix="/api/matching", tags=["matching"])


def _taxonomy(request: Request) -> Taxonomy:
    taxonomy: Taxonomy = runtime_of(request).state["taxonomy"]
    return taxonomy


def _check_categories(taxonomy: Taxonomy, codes: list[str]) -> None:
    unknown = taxonomy.unknown(tuple(codes))
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            {
                "field": "categories",
                "message": f"unknown categories: {', '.join(unknown)}",
                "valid_codes": sorted(taxonomy.categories),
            },
        )


@router.get("/taxonomy")
async def get_taxonomy(request: Request) -> dict[str, Any]:
    taxonomy = _taxonomy(request)
    return {
        "version": taxonomy.version,
        "categories": [vars(c) for c in taxonomy.categories.values()],
    }


@router.put("/companies/{company_id}")
async def put_company(
    company_id: str, body: CompanyIn, request: Request, _: StaffOnly
) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        created = await repository.upsert_company(conn, company_id, body.model_dump(mode="json"))
    return {"company_id": company_id, "created": created}


@router.put("/providers/{provider_id}")
async def put_provider(
    provider_id: str, body: ProviderIn, request: Request, _: StaffOnly
) -> dict[str, Any]:
    _check_categories(_taxonomy(request), body.categories)
    doc = {"provider_id": provider_id, **body.model_dump(mode="json")}
    async with transaction(runtime_of(request).pool) as conn:
        created = await repository.upsert_provider(conn, provider_id, doc)
    return {"provider_id": provider_id, "created": created}


@router.put("/needs/{need_id}")
async def put_need(need_id: str, body: NeedIn, request: Request, _: StaffOnly) -> dict[str, Any]:
    _check_categories(_taxonomy(request), body.categories)
    async with transaction(runtime_of(request).pool) as conn:
        if await repository.company(conn, body.company_id) is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                {"field": "company_id", "message": f"unknown company {body.company_id}"},
            )
        created = await repository.upsert_need(
            conn, need_id, body.company_id, body.model_dump(mode="json")
        )
    return {"need_id": need_id, "created": created}


@router.get("/needs")
async def list_needs(request: Request, _: StaffOnly) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        return [{"need_id": n.get("need_id"), **n} for n in await repository.needs(conn)]


@router.post("/needs/{need_id}/match")
async def match_need(need_id: str, request: Request, staff: StaffOnly) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        try:
            return await service.run_matching(conn, need_id, _taxonomy(request), staff)
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc


@router.get("/needs/{need_id}/proposals")
async def proposals(need_id: str, request: Request, _: StaffOnly) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        return await repository.latest_proposals(conn, need_id)


@router.post("/proposals/{proposal_id}/accept")
async def accept(proposal_id: str, request: Request, staff: StaffOnly) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        try:
            event = await service.accept(conn, proposal_id, staff)
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except service.ConflictError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return {"match_id": event.match_id, "status": "accepted"}


@router.post("/proposals/{proposal_id}/decline")
async def decline(
    proposal_id: str, body: Decision, request: Request, staff: StaffOnly
) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        try:
            await service.decline(conn, proposal_id, staff, body.reason)
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except service.ConflictError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return {"proposal_id": proposal_id, "status": "declined"}


@router.get("/runs")
async def runs(
    request: Request, _: StaffOnly, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        return await repository.runs(conn, limit)

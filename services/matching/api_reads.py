"""Reading companies, providers and needs: one by id, or lists with filters, a page at a time.

Lists are paged by keyset (ordered by id): the body is the page, and a ``Link`` header with
``rel="next"`` carries the URL of the next page (``after`` = the last id shown) while more remain.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from services.matching import repository
from services.matching.domain.model import PROVIDER_KINDS
from services.matching.schemas import CompanyOut, NeedOut, ProviderOut
from shared.auth import GuardedRoute, Viewer
from shared.db import transaction
from shared.events.common import ServiceType
from shared.service import runtime_of

router = APIRouter(prefix="/api/matching", tags=["matching"], route_class=GuardedRoute)

Limit = Annotated[int, Query(ge=1, le=500, description="items per page")]
After = Annotated[
    str, Query(max_length=64, description="keyset cursor: the last id of the previous page")
]
Language = Annotated[str | None, Query(pattern=r"^[a-z]{2}$", description="ISO 639-1 code")]
Category = Annotated[str | None, Query(max_length=64, description="taxonomy code")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such record"}}
PAGED: dict[int | str, dict[str, Any]] = {
    200: {"description": 'one page; a `Link: <…>; rel="next"` header while more remain'}
}


def _next_link(
    request: Request, response: Response, items: list[dict[str, Any]], key: str, limit: int
) -> None:
    if len(items) == limit:
        url = request.url.include_query_params(after=items[-1][key], limit=limit)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'


async def _one(
    request: Request,
    load: Callable[[asyncpg.Connection], Awaitable[dict[str, Any] | None]],
    what: str,
) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        found = await load(conn)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")
    return found


@router.get("/companies", response_model=list[CompanyOut], responses=PAGED)
async def list_companies(
    request: Request,
    response: Response,
    _: Viewer,
    limit: Limit = 100,
    after: After = "",
    postcode: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    language: Language = None,
) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        items = await repository.companies_page(conn, after, limit, postcode, language)
    _next_link(request, response, items, "company_id", limit)
    return items


@router.get("/companies/{company_id}", response_model=CompanyOut, responses=NOT_FOUND)
async def get_company(company_id: str, request: Request, _: Viewer) -> dict[str, Any]:
    async def load(conn: asyncpg.Connection) -> dict[str, Any] | None:
        doc = await repository.company(conn, company_id)
        return None if doc is None else {"company_id": company_id, **doc}

    return await _one(request, load, f"company {company_id}")


@router.get("/providers", response_model=list[ProviderOut], responses=PAGED)
async def list_providers(
    request: Request,
    response: Response,
    _: Viewer,
    limit: Limit = 100,
    after: After = "",
    category: Category = None,
    kind: Annotated[str | None, Query(pattern="^(" + "|".join(PROVIDER_KINDS) + ")$")] = None,
    language: Language = None,
    service_type: ServiceType | None = None,
) -> list[dict[str, Any]]:
    filters = {
        "category": category,
        "kind": kind,
        "language": language,
        "service_type": service_type.value if service_type else None,
    }
    async with transaction(runtime_of(request).pool) as conn:
        items = await repository.providers_page(conn, after, limit, filters)
    _next_link(request, response, items, "provider_id", limit)
    return items


@router.get("/providers/{provider_id}", response_model=ProviderOut, responses=NOT_FOUND)
async def get_provider(provider_id: str, request: Request, _: Viewer) -> dict[str, Any]:
    async def load(conn: asyncpg.Connection) -> dict[str, Any] | None:
        return await repository.provider(conn, provider_id)

    return await _one(request, load, f"provider {provider_id}")


@router.get("/needs", response_model=list[NeedOut], responses=PAGED)
async def list_needs(
    request: Request,
    response: Response,
    _: Viewer,
    limit: Limit = 100,
    after: After = "",
    status_: Annotated[str | None, Query(alias="status", pattern="^(open|matched)$")] = None,
    company_id: Annotated[str | None, Query(max_length=64)] = None,
    category: Category = None,
    service_type: ServiceType | None = None,
) -> list[dict[str, Any]]:
    filters = {
        "status": status_,
        "company_id": company_id,
        "category": category,
        "service_type": service_type.value if service_type else None,
    }
    async with transaction(runtime_of(request).pool) as conn:
        items = await repository.needs_page(conn, after, limit, filters)
    _next_link(request, response, items, "need_id", limit)
    return items


@router.get("/needs/{need_id}", response_model=NeedOut, responses=NOT_FOUND)
async def get_need(need_id: str, request: Request, _: Viewer) -> dict[str, Any]:
    async def load(conn: asyncpg.Connection) -> dict[str, Any] | None:
        doc = await repository.need(conn, need_id)
        return None if doc is None else {"need_id": need_id, **doc}

    return await _one(request, load, f"need {need_id}")

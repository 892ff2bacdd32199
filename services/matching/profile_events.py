"""Profiles and needs announce themselves (outbox), so that read models such as the console's
know them without reading matching's tables."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.matching.domain.sectors import wz_section
from shared.events.base import wrap
from shared.events.common import ServiceType
from shared.events.matching import (
    CompanyRegistered,
    CompanyUpdated,
    NeedRegistered,
    NeedUpdated,
    ProviderRegistered,
    ProviderUpdated,
)
from shared.messaging.outbox import enqueue

SOURCE = "matching"


async def company_saved(
    conn: asyncpg.Connection, company_id: str, doc: dict[str, Any], *, created: bool
) -> None:
    model = CompanyRegistered if created else CompanyUpdated
    event = model(
        company_id=company_id,
        name=doc["name"],
        sector_code=doc["sector_code"],
        postcode=doc["postcode"],
        city=doc["city"],
        size=doc.get("size"),
        sector_section=wz_section(doc["sector_code"]),
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"company:{company_id}"))


async def provider_saved(
    conn: asyncpg.Connection, provider_id: str, doc: dict[str, Any], *, created: bool
) -> None:
    model = ProviderRegistered if created else ProviderUpdated
    event = model(
        provider_id=provider_id,
        name=doc["name"],
        categories=tuple(doc["categories"]),
        postcode=doc["postcode"],
        city=doc["city"],
        kind=doc.get("kind", "it_provider"),
        capacity=doc.get("capacity"),
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"provider:{provider_id}"))


async def need_saved(
    conn: asyncpg.Connection, need_id: str, company_id: str, doc: dict[str, Any], *, created: bool
) -> None:
    model = NeedRegistered if created else NeedUpdated
    event = model(
        need_id=need_id,
        company_id=company_id,
        title=doc["title"],
        description=doc["description"],
        categories=tuple(doc["categories"]),
        service_type=ServiceType(doc["service_type"]),
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"need:{need_id}"))

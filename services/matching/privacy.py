"""Erasure requests (GDPR Art. 17), owned by matching because it owns the profiles.

Staff ask for the erasure of a contact (by id or email address) or of an organisation;
matching records the request (ids only) and publishes ``privacy.erasure.requested``. Every
service, matching included, erases in its own schema and streams and answers with
``privacy.erasure.completed``; matching keeps each answer and marks the request done when all
have answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from faststream.nats import NatsRouter

from services.matching import export
from services.matching import privacy_repository as repo
from services.matching.domain.privacy import erasure_status, missing_confirmations
from shared.db import transaction
from shared.erasure import handle_erasure
from shared.events.base import Envelope, utc_now, wrap
from shared.events.privacy import (
    ERASING_SERVICES,
    ErasureCompleted,
    ErasureRequested,
    ErasureScope,
    ExportAssembled,
    ExportRequested,
    PrivacyEvent,
)
from shared.events.streams import MATCHING_ON_PRIVACY, MATCHING_STREAM, PRIVACY_STREAM
from shared.export import handle_export
from shared.messaging import enqueue, handle_once, reliable_router, reliable_subscriber
from shared.privacy import ERASED, ErasureSubject
from shared.service import ServiceRuntime


class NobodyFoundError(LookupError):
    """No contact or organisation matches what the request names."""


async def request_erasure(
    conn: asyncpg.Connection,
    *,
    requested_by: str,
    contact_id: str | None = None,
    email: str | None = None,
    company_id: str | None = None,
    provider_id: str | None = None,
) -> ErasureRequested:
    """Record the request and publish it (outbox) in the caller's transaction."""
    found = await repo.contacts_of(
        conn, contact_id=contact_id, email=email, company_id=company_id, provider_id=provider_id
    )
    organisation = company_id or provider_id
    if not found and not organisation:
        raise NobodyFoundError
    party_ids = [organisation] if organisation else []
    event = ErasureRequested(
        request_id=f"erase-{uuid.uuid4().hex[:16]}",
        scope=ErasureScope.ORGANISATION if organisation else ErasureScope.CONTACT,
        contact_ids=tuple(sorted({row["contact_id"] for row in found if row["contact_id"]})),
        party_ids=tuple(party_ids),
        requested_by=requested_by,
        requested_at=utc_now(),
    )
    if organisation and not found and not await repo.party_names(conn, party_ids):
        raise NobodyFoundError
    await repo.insert_request(
        conn,
        event.request_id,
        event.scope,
        list(event.contact_ids),
        list(event.party_ids),
        requested_by,
        event.requested_at,
    )
    await enqueue(conn, wrap(event, source="matching"))
    return event


async def matching_steps(conn: asyncpg.Connection, subject: ErasureSubject) -> dict[str, int]:
    """What only matching knows: the organisations' names; their needs' texts go entirely."""
    if not subject.party_ids:
        return {}
    parties = sorted(subject.party_ids)
    subject.add_terms(await repo.party_names(conn, parties))
    needs = await repo.erase_needs_of(conn, parties, ERASED)
    return {"matching.needs": needs} if needs else {}


def consumers(runtime: ServiceRuntime) -> Sequence[NatsRouter]:
    router = reliable_router(MATCHING_ON_PRIVACY)

    @reliable_subscriber(router, MATCHING_ON_PRIVACY)
    async def on_privacy_event(envelope: Envelope[PrivacyEvent]) -> None:
        event = envelope.data
        if isinstance(event, ErasureRequested):
            await handle_erasure(
                pool=runtime.pool,
                client=runtime.broker.connection,
                service="matching",
                schema=runtime.settings.schema_name,
                consumer=MATCHING_ON_PRIVACY.durable,
                own_stream=MATCHING_STREAM.name,
                envelope=envelope,  # type: ignore[arg-type]
                own_steps=matching_steps,
                # Export parts travel on PRIVACY; matching, which asked for them, removes them.
                more_streams=(PRIVACY_STREAM.name,),
            )
        elif isinstance(event, ErasureCompleted):
            await _record_confirmation(runtime, envelope, event)
        elif isinstance(event, ExportRequested):
            await handle_export(
                pool=runtime.pool,
                service="matching",
                schema=runtime.settings.schema_name,
                consumer=MATCHING_ON_PRIVACY.durable,
                envelope=envelope,  # type: ignore[arg-type]
            )
        elif isinstance(event, ExportAssembled):
            part = event

            async def store(conn: asyncpg.Connection) -> None:
                await export.store_part(conn, part)

            await handle_once(runtime.pool, MATCHING_ON_PRIVACY.durable, envelope, store)

    return [router]


async def _record_confirmation(
    runtime: ServiceRuntime, envelope: Envelope[Any], event: ErasureCompleted
) -> None:
    async def effect(conn: asyncpg.Connection) -> None:
        await repo.confirm(
            conn,
            event.request_id,
            event.service,
            event.rows,
            event.stream_messages_deleted,
            event.completed_at,
        )
        await repo.complete_if_confirmed(conn, event.request_id, ERASING_SERVICES, utc_now())

    await handle_once(runtime.pool, MATCHING_ON_PRIVACY.durable, envelope, effect)


def with_status(request: dict[str, Any], now: datetime, overdue_after: timedelta) -> dict[str, Any]:
    confirmed = [c["service"] for c in request["confirmations"]]
    return {
        **request,
        "status": erasure_status(
            requested_at=request["requested_at"],
            confirmed_by=confirmed,
            services=ERASING_SERVICES,
            now=now,
            overdue_after=overdue_after,
        ),
        "waiting_for": missing_confirmations(confirmed, ERASING_SERVICES),
    }


async def erasure_requests(
    runtime: ServiceRuntime, overdue_after: timedelta, request_id: str | None = None
) -> list[dict[str, Any]]:
    async with transaction(runtime.pool) as conn:
        found = await repo.requests(conn, request_id)
    now = utc_now()
    return [with_status(request, now, overdue_after) for request in found]

"""Use cases of the matching service, each inside the caller's unit of work."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import asyncpg

from services.matching import repository
from services.matching.domain.model import Need, Provider, Taxonomy
from services.matching.domain.scoring import DEFAULT_WEIGHTS, rank
from shared.events.base import wrap
from shared.events.common import Contact, Party, PartyKind, ServiceType
from shared.events.matching import (
    CriterionScore,
    MatchAccepted,
    MatchDeclined,
    MatchProposed,
    NeedSummary,
    Proposal,
)
from shared.messaging import enqueue

SOURCE = "matching"


class NotFoundError(LookupError):
    pass


class ConflictError(RuntimeError):
    pass


def to_need(need_id: str, doc: dict[str, Any], company: dict[str, Any]) -> Need:
    return Need(
        need_id=need_id,
        company_id=doc["company_id"],
        title=doc["title"],
        description=doc["description"],
        categories=tuple(doc["categories"]),
        service_type=ServiceType(doc["service_type"]),
        languages=tuple(company.get("languages", ["de"])),
        postcode=company.get("postcode", ""),
        lat=company.get("lat"),
        lon=company.get("lon"),
        budget_max=doc.get("budget_max"),
    )


def to_provider(doc: dict[str, Any]) -> Provider:
    return Provider(
        provider_id=doc["provider_id"],
        name=doc["name"],
        profile=doc["profile"],
        categories=tuple(doc["categories"]),
        service_types=tuple(ServiceType(s) for s in doc["service_types"]),
        languages=tuple(doc["languages"]),
        lat=doc.get("lat"),
        lon=doc.get("lon"),
        radius_km=doc["radius_km"],
        price_min=doc.get("price_min"),
        capacity=doc["capacity"],
        booked=doc.get("booked", 0),
        blocked_companies=tuple(doc.get("blocked_companies", [])),
        quality=doc.get("quality", 0.5),
    )


def inputs_hash(need: Need, providers: list[Provider], exposure: dict[str, int]) -> str:
    payload = json.dumps(
        {"need": repr(need), "providers": sorted(map(repr, providers)), "exposure": exposure},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


async def run_matching(
    conn: asyncpg.Connection, need_id: str, taxonomy: Taxonomy, requested_by: str
) -> list[dict[str, Any]]:
    doc = await repository.need(conn, need_id)
    if doc is None:
        raise NotFoundError(f"need {need_id} not found")
    company = await repository.company(conn, doc["company_id"]) or {}
    need = to_need(need_id, doc, company)
    providers = [to_provider(p) for p in await repository.providers(conn)]
    exposure = await repository.exposure(conn)
    ranking = rank(need, providers, taxonomy, exposure=exposure)
    run_id = f"run-{uuid.uuid4().hex[:12]}"
    proposals: list[dict[str, Any]] = [
        {
            "proposal_id": f"prop-{uuid.uuid4().hex[:12]}",
            "run_id": run_id,
            "need_id": need_id,
            "provider_id": scored.provider_id,
            "rank": position,
            "score": scored.score,
            "breakdown": [
                {
                    "criterion": c.criterion,
                    "weight": c.weight,
                    "value": round(c.value, 4),
                    "contribution": c.contribution,
                    "reason_de": c.reason_de,
                    "reason_en": c.reason_en,
                }
                for c in scored.breakdown
            ],
        }
        for position, scored in enumerate(ranking.proposals, start=1)
    ]
    await repository.insert_run(
        conn,
        {
            "run_id": run_id,
            "need_id": need_id,
            "inputs_hash": inputs_hash(need, providers, exposure),
            "weights": DEFAULT_WEIGHTS,
            "taxonomy_version": taxonomy.version,
            "results": {
                "proposals": [(p["provider_id"], p["score"]) for p in proposals],
                "vetoed": [(v.provider_id, v.reason_en) for v in ranking.vetoed],
            },
            "requested_by": requested_by,
        },
    )
    for proposal in proposals:
        await repository.insert_proposal(conn, proposal)
    await repository.record_shown(conn, [p["provider_id"] for p in proposals])
    event = MatchProposed(
        run_id=run_id,
        need_id=need_id,
        company_id=need.company_id,
        taxonomy_version=taxonomy.version,
        proposals=tuple(
            Proposal(
                proposal_id=p["proposal_id"],
                provider_id=p["provider_id"],
                rank=p["rank"],
                score=p["score"],
                breakdown=tuple(CriterionScore(**c) for c in p["breakdown"]),
            )
            for p in proposals
        ),
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"need:{need_id}"))
    return proposals


def _party(party_id: str, kind: PartyKind, doc: dict[str, Any]) -> Party:
    return Party(
        party_id=party_id,
        kind=kind,
        name=doc["name"],
        contacts=tuple(Contact.model_validate(c) for c in doc["contacts"]),
    )


async def accept(conn: asyncpg.Connection, proposal_id: str, accepted_by: str) -> MatchAccepted:
    proposal = await repository.lock_proposal(conn, proposal_id)
    if proposal is None:
        raise NotFoundError(f"proposal {proposal_id} not found")
    if proposal["status"] != "proposed":
        raise ConflictError(f"proposal {proposal_id} is already {proposal['status']}")
    need_doc = await repository.need(conn, proposal["need_id"])
    provider_doc = await repository.provider(conn, proposal["provider_id"])
    if need_doc is None or provider_doc is None:
        raise NotFoundError("the need or the provider no longer exists")
    company_doc = await repository.company(conn, need_doc["company_id"]) or {}
    await repository.decide(conn, proposal_id, "accepted")
    await repository.set_need_status(conn, proposal["need_id"], "matched")
    await repository.book_provider(conn, proposal["provider_id"])
    event = MatchAccepted(
        match_id=f"match-{proposal_id.removeprefix('prop-')}",
        proposal_id=proposal_id,
        run_id=proposal["run_id"],
        need=NeedSummary(
            need_id=proposal["need_id"],
            title=need_doc["title"],
            description=need_doc["description"],
            categories=tuple(need_doc["categories"]),
            service_type=ServiceType(need_doc["service_type"]),
        ),
        company=_party(need_doc["company_id"], PartyKind.COMPANY, company_doc),
        provider=_party(proposal["provider_id"], PartyKind.PROVIDER, provider_doc),
        accepted_by=accepted_by,
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"need:{proposal['need_id']}"))
    return event


async def decline(
    conn: asyncpg.Connection, proposal_id: str, declined_by: str, reason: str
) -> MatchDeclined:
    proposal = await repository.lock_proposal(conn, proposal_id)
    if proposal is None:
        raise NotFoundError(f"proposal {proposal_id} not found")
    if proposal["status"] != "proposed":
        raise ConflictError(f"proposal {proposal_id} is already {proposal['status']}")
    await repository.decide(conn, proposal_id, "declined")
    event = MatchDeclined(
        proposal_id=proposal_id,
        need_id=proposal["need_id"],
        provider_id=proposal["provider_id"],
        declined_by=declined_by,
        reason=reason,
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"need:{proposal['need_id']}"))
    return event

"""Use cases of the matching service, each inside the caller's unit of work."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.matching import repository
from services.matching.domain.index import ProviderIndex
from services.matching.domain.model import IT_PROVIDER, Need, Provider, Taxonomy
from services.matching.domain.reasons import NEUTRAL_QUALITY
from services.matching.domain.scoring import (
    DEFAULT_WEIGHTS,
    NO_EXPOSURE,
    BandSeat,
    Exposure,
    Ranking,
    Scored,
    criteria,
)
from services.matching.domain.sectors import wz_section
from shared.events.base import wrap
from shared.events.common import Contact, Party, PartyKind, ServiceType
from shared.events.matching import (
    CriterionScore,
    MatchAccepted,
    MatchDeclined,
    MatchProposed,
    NeedSummary,
    Proposal,
    TieNote,
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
        sector=wz_section(company.get("sector_code")),
        provider_kinds=tuple(doc.get("provider_kinds") or ()),
    )


def to_provider(row: dict[str, Any]) -> Provider:
    """A provider from its stored row: the staff's document plus booked and quality."""
    doc = row["doc"]
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
        booked=row.get("booked", 0),
        blocked_companies=tuple(doc.get("blocked_companies", [])),
        quality=row.get("quality", NEUTRAL_QUALITY),
        ratings=row.get("ratings", 0),
        kind=doc.get("kind", IT_PROVIDER),
        levels=tuple(sorted((doc.get("levels") or {}).items())),
        sectors=tuple(doc.get("sectors", [])),
    )


@dataclass
class LiveIndex:
    """The replica's provider index and how far it has followed the provider change log."""

    index: ProviderIndex
    applied: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


async def refresh(conn: asyncpg.Connection, live: LiveIndex) -> int:
    """Apply every provider change committed since the last query: freshness on each query."""
    async with live.lock:
        changes = await repository.changes_since(conn, live.applied)
        for seq, provider_id, row in changes:
            if row is None:
                live.index.remove(provider_id)
            else:
                live.index.upsert(to_provider(row))
            live.applied = seq
        return live.applied


def inputs_hash(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Policy:
    """How the office ranks: weights, how many proposals, and the tolerance of equal scores."""

    weights: dict[str, float]
    top: int = 5
    tolerance: float = 0.02


def _breakdown(scored: Scored) -> list[dict[str, Any]]:
    return [
        {
            "criterion": c.criterion,
            "weight": c.weight,
            "value": round(c.value, 4),
            "contribution": c.contribution,
            "reason_de": c.reason_de,
            "reason_en": c.reason_en,
        }
        for c in scored.breakdown
    ]


def _results(ranking: Ranking) -> dict[str, Any]:
    return {
        "proposals": [[p.provider_id, p.score] for p in ranking.proposals],
        "veto_counts": ranking.veto_counts,
    }


async def rank_need(
    conn: asyncpg.Connection,
    live: LiveIndex,
    need: Need,
    policy: Policy,
    excluded: frozenset[str],
) -> tuple[Ranking, dict[BandSeat, Exposure]]:
    found = live.index.candidates(
        need, weights=policy.weights, top=policy.top, tolerance=policy.tolerance, excluded=excluded
    )
    keys = live.index.band_keys(found, policy.tolerance)
    exposure = await repository.exposure_of(conn, sorted((band, pid) for pid, band in keys.items()))
    ranking = live.index.finish(
        found, exposure, weights=policy.weights, top=policy.top, tolerance=policy.tolerance
    )
    return ranking, exposure


@dataclass(frozen=True)
class Matched:
    run_id: str
    proposals: list[dict[str, Any]]
    veto_counts: dict[str, int]  # providers removed by each hard filter, by English reason
    everyone_vetoed: bool


async def run_matching(
    conn: asyncpg.Connection,
    need_id: str,
    taxonomy: Taxonomy,
    requested_by: str,
    live: LiveIndex,
    policy: Policy,
) -> Matched:
    doc = await repository.need(conn, need_id)
    if doc is None:
        raise NotFoundError(f"need {need_id} not found")
    company = await repository.company(conn, doc["company_id"]) or {}
    seq = await refresh(conn, live)
    need = to_need(need_id, doc, company)
    blocks = frozenset(
        o["provider_id"]
        for o in await repository.overrides(conn, [need_id])
        if o["kind"] == "block"
    )
    ranking, exposure = await rank_need(conn, live, need, policy, blocks)
    inputs = {
        "need": doc,
        "company": company,
        "blocks": sorted(blocks),
        "exposure": [
            [band, pid, seen.firsts, seen.attention] for (band, pid), seen in exposure.items()
        ],
        "provider_seq": seq,
        "top": policy.top,
        "tolerance": policy.tolerance,
    }
    run_id = f"run-{uuid.uuid4().hex[:12]}"
    proposals = [
        new_proposal(run_id, need_id, position, scored)
        for position, scored in enumerate(ranking.proposals, start=1)
    ]
    await repository.insert_run(
        conn,
        {
            "run_id": run_id,
            "need_id": need_id,
            "inputs_hash": inputs_hash(inputs),
            "weights": policy.weights,
            "taxonomy_version": taxonomy.version,
            "results": _results(ranking),
            "requested_by": requested_by,
            "inputs": inputs,
        },
    )
    await propose(conn, run_id, need, taxonomy, proposals, policy)
    vetoed = sum(ranking.veto_counts.values())
    everyone = not proposals and vetoed > 0 and vetoed == len(live.index)
    return Matched(run_id, proposals, ranking.veto_counts, everyone)


def new_proposal(run_id: str, need_id: str, rank: int, scored: Scored) -> dict[str, Any]:
    return {
        "proposal_id": f"prop-{uuid.uuid4().hex[:12]}",
        "run_id": run_id,
        "need_id": need_id,
        "provider_id": scored.provider_id,
        "rank": rank,
        "score": scored.score,
        "breakdown": _breakdown(scored),
        "tie": _tie(scored),
    }


def _tie(scored: Scored) -> dict[str, Any] | None:
    if scored.tie_reasons is None:
        return None
    reason_de, reason_en = scored.tie_reasons
    return {
        "tied_with": scored.tied_with,
        "band": scored.band,
        "reason_de": reason_de,
        "reason_en": reason_en,
    }


def _tie_note(tie: dict[str, Any] | None) -> TieNote | None:
    if tie is None:
        return None
    return TieNote(
        tied_with=tie["tied_with"],
        reason_de=tie["reason_de"],
        reason_en=tie["reason_en"],
        band=tie.get("band"),
    )


async def propose(
    conn: asyncpg.Connection,
    run_id: str,
    need: Need,
    taxonomy: Taxonomy,
    proposals: list[dict[str, Any]],
    policy: Policy | None = None,
) -> None:
    for proposal in proposals:
        await repository.insert_proposal(conn, proposal)
    gained: dict[BandSeat, Exposure] = {}
    for p in proposals:
        if p["tie"] is not None:
            seat = (p["tie"]["band"], p["provider_id"])
            gained[seat] = gained.get(seat, NO_EXPOSURE).after(p["rank"])
    if gained:
        await repository.record_shown(conn, gained)
    event = MatchProposed(
        run_id=run_id,
        need_id=need.need_id,
        company_id=need.company_id,
        taxonomy_version=taxonomy.version,
        tolerance=policy.tolerance if policy else None,
        weights=dict(policy.weights) if policy else None,
        proposals=tuple(
            Proposal(
                proposal_id=p["proposal_id"],
                provider_id=p["provider_id"],
                rank=p["rank"],
                score=p["score"],
                breakdown=tuple(CriterionScore(**c) for c in p["breakdown"]),
                tie=_tie_note(p["tie"]),
            )
            for p in proposals
        ),
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"need:{need.need_id}"))


async def replay(conn: asyncpg.Connection, run_id: str) -> dict[str, Any]:
    """Rank again from what the run recorded; the result must be the recorded one."""
    run = await repository.run(conn, run_id)
    if run is None:
        raise NotFoundError(f"run {run_id} not found")
    inputs = run["inputs"]
    if run["kind"] != "single" or inputs is None:
        raise ConflictError(f"run {run_id} did not record its inputs for a replay")
    taxonomy_doc = await repository.taxonomy(conn, run["taxonomy_version"])
    if taxonomy_doc is None:
        raise ConflictError(f"taxonomy {run['taxonomy_version']} is no longer known")
    taxonomy = Taxonomy.from_doc(taxonomy_doc)
    providers = [
        to_provider(row) for row in await repository.providers_as_of(conn, inputs["provider_seq"])
    ]
    need = to_need(run["need_id"], inputs["need"], inputs["company"])
    ranking = ProviderIndex(taxonomy, providers).rank(
        need,
        weights=run["weights"],
        exposure={
            (band, pid): Exposure(firsts, attention)
            for band, pid, firsts, attention in inputs["exposure"]
        },
        top=inputs["top"],
        tolerance=inputs["tolerance"],
        excluded=frozenset(inputs["blocks"]),
    )
    replayed = _results(ranking)
    return {
        "run_id": run_id,
        "same": replayed == run["results"] and inputs_hash(inputs) == run["inputs_hash"],
        "recorded": run["results"],
        "replayed": replayed,
    }


def explain(
    need: Need, provider: Provider, live: LiveIndex, policy: Policy, text: float | None = None
) -> Scored:
    """The explained score of one provider for one need, as a proposal shows it."""
    if text is None:  # a pinned provider outside the candidates: text against all providers
        text = live.index.text_value(need, provider.provider_id)
    weights = {**DEFAULT_WEIGHTS, **policy.weights}
    breakdown = criteria(need, provider, live.index.taxonomy, text, weights)
    return Scored(provider.provider_id, round(sum(c.contribution for c in breakdown), 4), breakdown)


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
    await enqueue(
        conn,
        wrap(event, source=SOURCE, correlation_id=f"need:{proposal['need_id']}"),
        actor=accepted_by,
    )
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
    await enqueue(
        conn,
        wrap(event, source=SOURCE, correlation_id=f"need:{proposal['need_id']}"),
        actor=declined_by,
    )
    return event

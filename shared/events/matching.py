"""Events of the matching context: profiles, needs, runs and proposals."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from shared.events.base import Event
from shared.events.common import Frozen, Locale, Party, ServiceType


class CompanyRegistered(Event):
    type: Literal["matching.company.registered"] = "matching.company.registered"
    company_id: str
    name: str
    sector_code: str = Field(description="WZ 2008 code")
    postcode: str
    city: str
    size: int | None = Field(default=None, description="employees")
    sector_section: str | None = Field(
        default=None, description="WZ 2008 section letter of sector_code (A-U), for reports"
    )


class CompanyUpdated(Event):
    type: Literal["matching.company.updated"] = "matching.company.updated"
    company_id: str
    name: str
    sector_code: str
    postcode: str
    city: str
    size: int | None = Field(default=None, description="employees")
    sector_section: str | None = Field(
        default=None, description="WZ 2008 section letter of sector_code (A-U), for reports"
    )


class ProviderRegistered(Event):
    type: Literal["matching.provider.registered"] = "matching.provider.registered"
    provider_id: str
    name: str
    categories: tuple[str, ...]
    postcode: str
    city: str
    kind: str = Field(default="it_provider", description="it_provider or mentor")
    capacity: int | None = Field(default=None, ge=0, description="meetings per period")


class ProviderUpdated(Event):
    type: Literal["matching.provider.updated"] = "matching.provider.updated"
    provider_id: str
    name: str
    categories: tuple[str, ...]
    postcode: str
    city: str
    kind: str = Field(default="it_provider", description="it_provider or mentor")
    capacity: int | None = Field(default=None, ge=0, description="meetings per period")


class NeedRegistered(Event):
    """A company's need was recorded (its text, so that staff views can search it)."""

    type: Literal["matching.need.registered"] = "matching.need.registered"
    need_id: str
    company_id: str
    title: str
    description: str
    categories: tuple[str, ...]
    service_type: ServiceType


class NeedUpdated(Event):
    type: Literal["matching.need.updated"] = "matching.need.updated"
    need_id: str
    company_id: str
    title: str
    description: str
    categories: tuple[str, ...]
    service_type: ServiceType


class MatchRequested(Event):
    type: Literal["matching.match.requested"] = "matching.match.requested"
    run_id: str
    need_ids: tuple[str, ...] = Field(min_length=1)
    requested_by: str
    batch: bool = False


class CriterionScore(Frozen):
    """One line of a proposal's explanation."""

    criterion: str
    weight: float
    value: float = Field(ge=0.0, le=1.0)
    contribution: float
    reason_de: str
    reason_en: str


class TieNote(Frozen):
    """A proposal tied with others: their order follows balanced exposure, not merit."""

    tied_with: int = Field(ge=1)
    reason_de: str
    reason_en: str
    band: str | None = Field(default=None, description="The tie band's key (its members)")


class Proposal(Frozen):
    proposal_id: str
    provider_id: str
    rank: int = Field(ge=1)
    score: float
    breakdown: tuple[CriterionScore, ...]
    tie: TieNote | None = None


class MatchProposed(Event):
    type: Literal["matching.match.proposed"] = "matching.match.proposed"
    run_id: str
    need_id: str
    company_id: str
    proposals: tuple[Proposal, ...]
    taxonomy_version: str
    tolerance: float | None = Field(default=None, description="Width of a tie band in force")
    weights: dict[str, float] | None = Field(default=None, description="Criterion weights")


class NeedSummary(Frozen):
    need_id: str
    title: str
    description: str
    categories: tuple[str, ...]
    service_type: ServiceType
    locale: Locale = Locale.DE


class MatchAccepted(Event):
    """Staff accepted a proposal: booking takes over and arranges the meeting."""

    type: Literal["matching.match.accepted"] = "matching.match.accepted"
    match_id: str
    proposal_id: str
    run_id: str
    need: NeedSummary
    company: Party
    provider: Party
    accepted_by: str
    meeting_mode: Literal["in_person", "virtual", "any"] = "any"
    earliest_start: AwareDatetime | None = None


class MatchDeclined(Event):
    type: Literal["matching.match.declined"] = "matching.match.declined"
    match_id: str | None = None
    proposal_id: str
    need_id: str
    provider_id: str
    declined_by: str
    reason: str = ""


MatchingEvent = Annotated[
    CompanyRegistered
    | CompanyUpdated
    | ProviderRegistered
    | ProviderUpdated
    | NeedRegistered
    | NeedUpdated
    | MatchRequested
    | MatchProposed
    | MatchAccepted
    | MatchDeclined,
    Field(discriminator="type"),
]

__all__ = [
    "CompanyRegistered",
    "CompanyUpdated",
    "CriterionScore",
    "MatchAccepted",
    "MatchDeclined",
    "MatchProposed",
    "MatchRequested",
    "MatchingEvent",
    "NeedRegistered",
    "NeedSummary",
    "NeedUpdated",
    "Proposal",
    "ProviderRegistered",
    "ProviderUpdated",
    "TieNote",
]

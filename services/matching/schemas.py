"""Request bodies of the staff API: validated at the edge, with field-naming 422s."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import langcodes
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.contacts import ContactIn
from shared.events.common import ServiceType

MAX_TEXT = 5000
MAX_ID = 64
MAX_CATEGORIES = 20
MAX_CONTACTS = 20
MAX_LANGUAGES = 10
MAX_BLOCKED = 1000


def _iso_639_1(code: str) -> str:
    if (
        len(code) != 2
        or not code.isascii()
        or not code.islower()
        or not langcodes.tag_is_valid(code)
    ):
        msg = f"{code[:40]!r} is not an ISO 639-1 language code (such as de, en, tr)"
        raise ValueError(msg)
    return code


LanguageCode = Annotated[str, AfterValidator(_iso_639_1)]
Languages = Annotated[
    list[LanguageCode],
    Field(
        min_length=1,
        max_length=MAX_LANGUAGES,
        description='ISO 639-1 codes, the preferred first ("de", not "Deutsch")',
    ),
]
CategoryCode = Annotated[str, Field(min_length=1, max_length=MAX_ID)]
Categories = Annotated[list[CategoryCode], Field(min_length=1, max_length=MAX_CATEGORIES)]
Postcode = Annotated[str, Field(pattern=r"^\d{5}$", description="German postcode, five digits")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompanyIn(Body):
    name: str = Field(min_length=1, max_length=200)
    sector_code: str = Field(pattern=r"^\d{2}(\.\d{1,2}(\.\d{1,2})?)?$", description="WZ 2008")
    size: int = Field(default=10, ge=1, le=100000, description="employees")
    postcode: Postcode
    city: str = Field(min_length=1, max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    languages: Languages = Field(default_factory=lambda: ["de"])
    contacts: list[ContactIn] = Field(min_length=1, max_length=MAX_CONTACTS)


class ProviderIn(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="it_provider", pattern=r"^(it_provider|mentor)$")
    profile: str = Field(min_length=1, max_length=MAX_TEXT)
    categories: Categories
    service_types: list[ServiceType] = Field(
        default_factory=lambda: list(ServiceType), min_length=1, max_length=len(ServiceType)
    )
    languages: Languages = Field(default_factory=lambda: ["de"])
    postcode: Postcode
    city: str = Field(min_length=1, max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_km: float = Field(default=50, gt=0, le=1000)
    price_min: int | None = Field(default=None, ge=0)
    price_max: int | None = Field(default=None, ge=0)
    capacity: int = Field(default=4, ge=0, le=1000, description="meetings per period")
    blocked_companies: list[Annotated[str, Field(min_length=1, max_length=MAX_ID)]] = Field(
        default_factory=list, max_length=MAX_BLOCKED
    )
    levels: dict[str, Annotated[int, Field(ge=1, le=3)]] = Field(
        default_factory=dict,
        max_length=MAX_CATEGORIES,
        description="capability level per category: 1 basic … 3 expert",
    )
    sectors: list[Annotated[str, Field(pattern=r"^[A-U]$")]] = Field(
        default_factory=list, max_length=21, description="WZ 2008 sections served; empty: all"
    )
    references: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=20
    )
    contacts: list[ContactIn] = Field(min_length=1, max_length=MAX_CONTACTS)

    @model_validator(mode="after")
    def consistent(self) -> ProviderIn:
        stray = sorted(set(self.levels) - set(self.categories))
        if stray:
            msg = f"levels given for categories the provider does not list: {stray}"
            raise ValueError(msg)
        low, high = self.price_min, self.price_max
        if low is not None and high is not None and high < low:
            msg = "price_max is below price_min"
            raise ValueError(msg)
        return self


class NeedIn(Body):
    company_id: str = Field(min_length=1, max_length=MAX_ID)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=MAX_TEXT)
    categories: Categories
    service_type: ServiceType
    budget_min: int | None = Field(default=None, ge=0)
    budget_max: int | None = Field(default=None, ge=0)
    urgency: str = Field(default="normal", pattern=r"^(low|normal|high)$")
    provider_kinds: list[Literal["it_provider", "mentor"]] | None = Field(
        default=None,
        min_length=1,
        description="staff's choice of provider kinds; by default mentors for mentoring "
        "needs and IT providers for every other service type",
    )

    @field_validator("budget_max")
    @classmethod
    def budget_in_order(cls, high: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("budget_min")
        if low is not None and high is not None and high < low:
            msg = f"budget_max ({high}) is below budget_min ({low})"
            raise ValueError(msg)
        return high


class OverrideIn(Body):
    reason: str = Field(default="", max_length=1000)


class BatchIn(Body):
    need_ids: list[str] | None = Field(
        default=None, max_length=50_000, description="open needs to allocate; all when omitted"
    )


class Decision(Body):
    reason: str = Field(default="", max_length=1000)


class SuggestIn(Body):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=MAX_TEXT)


class CategorySuggestion(BaseModel):
    code: str
    label_de: str
    label_en: str
    confidence: float = Field(ge=0, le=1, description="on a fixed scale: 0.4 one word, 0.8 three")
    words: list[str] = Field(description="the need's words that led to it")


class SuggestOut(BaseModel):
    suggestions: list[CategorySuggestion] = Field(description="best first; staff confirm")


# -- answers ----------------------------------------------------------------------------------


class Out(BaseModel):
    """An answer's documented fields; later versions may add more."""

    model_config = ConfigDict(extra="allow")


class CriterionOut(Out):
    criterion: str
    weight: float
    value: float = Field(description="0..1; what it means is in the reasons")
    contribution: float = Field(description="weight x value, its share of the score")
    reason_de: str
    reason_en: str


class TieOut(Out):
    tied_with: int = Field(description="how many other providers score within the tolerance")
    band: str = Field(description="the tie band whose positional exposure decides the order")
    reason_de: str
    reason_en: str


class ProposalOut(Out):
    proposal_id: str
    run_id: str
    provider_id: str
    rank: int = Field(ge=1)
    score: float
    breakdown: list[CriterionOut]
    tie: TieOut | None = None
    status: str = Field(default="proposed", description="proposed, accepted or declined")


class DecisionOut(Out):
    status: Literal["accepted", "declined"]
    match_id: str | None = None
    proposal_id: str | None = None


class BatchStartedOut(Out):
    job_id: str
    status: Literal["queued"]
    total: int = Field(description="open needs in the job")


class AssignmentOut(Out):
    need_id: str
    provider_id: str
    score: float
    pinned: bool
    text: float | None = Field(description="the text relevance of the pair")


class UnassignedOut(Out):
    need_id: str
    reason: str


class BatchResultOut(Out):
    assignments: list[AssignmentOut]
    unassigned: list[UnassignedOut]
    objective: float = Field(description="the sum of the assigned scores")


BatchStatus = Literal[
    "queued", "running", "ready", "committed", "cancelling", "cancelled", "failed"
]


class BatchJobOut(Out):
    job_id: str
    status: BatchStatus
    done: int = Field(description="needs scored so far")
    total: int
    request: dict[str, Any] = Field(description="what the job computes, recorded at its start")
    result: BatchResultOut | None = Field(description="once ready: the preview to commit")
    error: str | None
    run_id: str | None = Field(description="once committed: the run it recorded")
    requested_by: str
    created_at: datetime
    updated_at: datetime
    lease_owner: str | None = Field(description="the runner (pod:process) that holds the job")
    attempts: int = Field(description="claims so far; above 1 a runner died and another took over")


class BatchCommittedOut(BatchResultOut):
    job_id: str
    run_id: str
    assigned: int


class BatchCancelledOut(Out):
    job_id: str
    status: Literal["cancelling", "cancelled"]


Number = int | float


class CompanyOut(Out):
    company_id: str
    name: str | None = None
    sector_code: str | None = None
    size: int | None = Field(default=None, description="employees")
    postcode: str | None = None
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    languages: list[str] | None = Field(default=None, description="ISO 639-1 codes")
    contacts: list[dict[str, Any]] | None = None
    updated_at: datetime | None = None


class ProviderOut(Out):
    provider_id: str
    name: str | None = None
    kind: str | None = Field(default=None, description="it_provider or mentor")
    profile: str | None = None
    categories: list[str] | None = None
    service_types: list[str] | None = None
    languages: list[str] | None = None
    postcode: str | None = None
    city: str | None = None
    radius_km: Number | None = None
    price_min: Number | None = None
    price_max: Number | None = None
    capacity: int | None = Field(default=None, description="meetings per period")
    booked: int | None = Field(default=None, description="meetings booked in the period")
    quality: Number | None = Field(default=None, description="from feedback; a prior without any")
    ratings: Number | None = Field(default=None, description="feedback received")
    updated_at: datetime | None = None


class NeedOut(Out):
    need_id: str
    company_id: str | None = None
    title: str | None = None
    description: str | None = None
    categories: list[str] | None = None
    service_type: str | None = None
    budget_min: Number | None = None
    budget_max: Number | None = None
    urgency: str | None = None
    provider_kinds: list[str] | None = None
    status: str | None = Field(default=None, description="open or matched")
    updated_at: datetime | None = None

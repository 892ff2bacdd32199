"""Request bodies of the staff API: validated at the edge, with field-naming 422s."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contacts import ContactIn
from shared.events.common import ServiceType

MAX_TEXT = 5000


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompanyIn(Body):
    name: str = Field(min_length=1, max_length=200)
    sector_code: str = Field(pattern=r"^\d{2}(\.\d{1,2}(\.\d{1,2})?)?$", description="WZ 2008")
    size: int = Field(default=10, ge=1, le=100000, description="employees")
    postcode: str = Field(pattern=r"^\d{5}$")
    city: str = Field(min_length=1, max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    languages: list[str] = Field(default_factory=lambda: ["de"], min_length=1)
    contacts: list[ContactIn] = Field(min_length=1)


class ProviderIn(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="it_provider", pattern=r"^(it_provider|mentor)$")
    profile: str = Field(min_length=1, max_length=MAX_TEXT)
    categories: list[str] = Field(min_length=1)
    service_types: list[ServiceType] = Field(default_factory=lambda: list(ServiceType))
    languages: list[str] = Field(default_factory=lambda: ["de"], min_length=1)
    postcode: str = Field(pattern=r"^\d{5}$")
    city: str = Field(min_length=1, max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_km: float = Field(default=50, gt=0, le=1000)
    price_min: int | None = Field(default=None, ge=0)
    price_max: int | None = Field(default=None, ge=0)
    capacity: int = Field(default=4, ge=0, le=1000, description="meetings per period")
    blocked_companies: list[str] = Field(default_factory=list)
    levels: dict[str, Annotated[int, Field(ge=1, le=3)]] = Field(
        default_factory=dict, description="capability level per category: 1 basic … 3 expert"
    )
    sectors: list[Annotated[str, Field(pattern=r"^[A-U]$")]] = Field(
        default_factory=list, description="WZ 2008 sections served; empty: all sectors"
    )
    references: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=20
    )
    contacts: list[ContactIn] = Field(min_length=1)

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
    company_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=MAX_TEXT)
    categories: list[str] = Field(min_length=1)
    service_type: ServiceType
    budget_min: int | None = Field(default=None, ge=0)
    budget_max: int | None = Field(default=None, ge=0)
    urgency: str = Field(default="normal", pattern=r"^(low|normal|high)$")


class OverrideIn(Body):
    reason: str = Field(default="", max_length=1000)


class BatchIn(Body):
    need_ids: list[str] | None = Field(
        default=None, max_length=50_000, description="open needs to allocate; all when omitted"
    )


class Decision(Body):
    reason: str = Field(default="", max_length=1000)

"""Request bodies of the staff API: validated at the edge, with field-naming 422s."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.events.common import Contact, ServiceType

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
    contacts: list[Contact] = Field(min_length=1)


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
    capacity: int = Field(default=4, ge=0, le=1000)
    blocked_companies: list[str] = Field(default_factory=list)
    contacts: list[Contact] = Field(min_length=1)


class NeedIn(Body):
    company_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=MAX_TEXT)
    categories: list[str] = Field(min_length=1)
    service_type: ServiceType
    budget_max: int | None = Field(default=None, ge=0)
    urgency: str = Field(default="normal", pattern=r"^(low|normal|high)$")


class Decision(Body):
    reason: str = Field(default="", max_length=1000)

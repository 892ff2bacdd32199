"""Value objects that several contexts' events carry."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Locale(StrEnum):
    DE = "de"
    EN = "en"


class PartyKind(StrEnum):
    COMPANY = "company"
    PROVIDER = "provider"


class ServiceType(StrEnum):
    FIRST_ADVICE = "first_advice"
    IMPLEMENTATION = "implementation"
    TRAINING = "training"
    MENTORING = "mentoring"
    FUNDING_ADVICE = "funding_advice"


class Contact(Frozen):
    """A person who can be invited. Personal data: never log more than ``contact_id``."""

    contact_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, description="E.164, e.g. +492311234567")
    locale: Locale = Locale.DE
    sms_consent: bool = False
    timezone: str = "Europe/Berlin"


class Party(Frozen):
    """A company or a provider, with the people who take part for it."""

    party_id: str = Field(min_length=1, max_length=64)
    kind: PartyKind
    name: str = Field(min_length=1, max_length=200)
    contacts: tuple[Contact, ...] = Field(min_length=1)

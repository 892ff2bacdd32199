"""Settings of the matching service, read from `MATCHING_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.matching.domain.scoring import CRITERIA, DEFAULT_WEIGHTS
from shared.settings import ServiceSettings


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "matching"

    http_port: int = 8081
    taxonomy_path: Path | None = Field(
        default=None, description="A taxonomy JSON replacing the shipped default"
    )
    weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        description='Criterion weights as JSON, e.g. {"text": 0.3}; missing ones keep defaults',
    )
    proposals_per_need: int = Field(default=5, ge=1, le=50)
    tolerance: float = Field(
        default=0.02, gt=0, le=0.2, description="Scores this close count as equally good"
    )
    batch_options_per_need: int = Field(default=20, ge=1, le=200)
    batch_in_api: bool = Field(
        default=True,
        description="API replicas run batch jobs themselves; false where a matching worker "
        "(`werkbank-matching worker`) runs them, so the API pod stays small",
    )
    batch_lease_seconds: float = Field(
        default=30, ge=1, le=600, description="A runner silent this long loses its batch job"
    )
    batch_max_attempts: int = Field(
        default=3, ge=1, le=20, description="Claims of a batch job before it counts as failed"
    )
    batch_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often an idle runner looks for queued jobs"
    )
    worker_http_port: int = Field(
        default=8091, description="The worker's health and metrics port (not the API's)"
    )
    erasure_overdue_hours: float = Field(
        default=72, gt=0, description="An erasure not confirmed by every service by then: overdue"
    )

    @field_validator("weights")
    @classmethod
    def known_criteria(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(weights) - set(CRITERIA))
        if unknown:
            msg = f"unknown criteria {unknown}; known: {list(CRITERIA)}"
            raise ValueError(msg)
        if any(value < 0 for value in weights.values()):
            msg = "weights must not be negative"
            raise ValueError(msg)
        return {**DEFAULT_WEIGHTS, **weights}

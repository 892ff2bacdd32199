"""Settings of the matching service, read from `MATCHING_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "matching"

    http_port: int = 8081
    taxonomy_path: Path | None = None

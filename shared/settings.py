"""The settings base every service extends: one class per service, read from the environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class ServiceSettings(BaseSettings):
    """Common settings. A service subclass sets ``env_prefix`` (``MATCHING_``, ``BOOKING_``...)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: ClassVar[str] = "werkbank"

    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_tls_ca: Path | None = Field(default=None, description="CA bundle; enables TLS")
    nats_tls_cert: Path | None = None
    nats_tls_key: Path | None = None
    stream_replicas: int = Field(default=1, ge=1, le=5)

    database_url: SecretStr = SecretStr("postgresql://postgres@localhost:5432/werkbank")
    db_schema: str = ""
    db_pool_min: int = Field(default=1, ge=0)
    db_pool_max: int = Field(default=10, ge=1)
    migrate_on_start: bool = True

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    staff_token: SecretStr | None = Field(
        default=None, description="The old shared staff token; only with static_token_enabled"
    )
    static_token_enabled: bool = Field(
        default=False, description="Accept staff_token as a bearer token (single-machine setups)"
    )
    oidc_issuer: str | None = Field(default=None, description="Issuer URL of the OpenID provider")
    oidc_audience: str = "werkbank"
    oidc_roles_claim: str = Field(
        default="roles", description="Dotted claim path of the roles, e.g. realm_access.roles"
    )
    oidc_jwks_url: str | None = Field(default=None, description="Else from the discovery document")
    oidc_clock_skew_seconds: float = Field(default=30.0, ge=0, le=300)

    log_level: str = "INFO"
    log_json: bool = True

    outbox_batch_size: int = Field(default=200, ge=1, le=5000)
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    graceful_timeout_seconds: float = Field(default=20.0, gt=0)
    retention_days: dict[str, float] = Field(
        default_factory=dict,
        description='Days to keep each kind of data, as JSON, e.g. {"email_bodies": 30}; '
        "kinds and defaults in docs/DATENSCHUTZ.md",
    )
    retention_interval_seconds: float = Field(default=3600.0, gt=0)

    @field_validator("db_schema")
    @classmethod
    def _schema_is_identifier(cls, value: str) -> str:
        if value and not _IDENTIFIER.match(value):
            msg = "db_schema must be a lower-case SQL identifier"
            raise ValueError(msg)
        return value

    @property
    def schema_name(self) -> str:
        return self.db_schema or self.service_name

"""Settings of the console, read from `CONSOLE_*` environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "console"

    http_port: int = 8080
    matching_url: str = "http://127.0.0.1:8081"
    booking_url: str = "http://127.0.0.1:8082"
    notify_url: str = "http://127.0.0.1:8083"
    public_base_url: str = "http://127.0.0.1:8080"
    service_timeout_seconds: float = Field(default=10.0, gt=0)

    session_secret: SecretStr | None = Field(
        default=None,
        description="Seals (encrypts and signs) the session cookie, which holds the person's "
        "tokens; a random one per start if unset",
    )
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=10, ge=1)
    secure_cookies: bool = Field(
        default=False, description="Secure flag on cookies; true behind HTTPS"
    )
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None

    replay_nats_url: SecretStr | None = Field(
        default=None,
        description="An operator's NATS connection (ops user) for replaying dead letters; the "
        "console's own user may publish nothing but its own subjects",
    )
    stale_after_seconds: float = Field(
        default=5.0, gt=0, description="Older read-model data is flagged on every page"
    )
    action_wait_seconds: float = Field(
        default=4.0, ge=0, description="How long an action waits for its event to arrive"
    )
    page_size: int = Field(default=25, ge=5, le=200)

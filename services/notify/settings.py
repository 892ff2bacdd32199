"""Settings of the notify service, read from `NOTIFY_*` environment variables."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "notify"

    http_port: int = 8083
    db_pool_max: int = Field(
        default=10,
        ge=4,
        description="At least 4: the deliveries' transaction, the acceptance journal, the held "
        "loop and the outbox relay each hold a connection at once",
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)
    smtp_ca_bundle: Path | None = Field(
        default=None, description="CA bundle that signs the SMTP server's certificate"
    )
    smtp_pool_size: int = Field(default=8, ge=1, le=64, description="SMTP connections kept open")
    email_per_recipient_per_hour: int = Field(default=30, ge=1)
    reply_to: str | None = None
    message_id_domain: str = "werkbank.local"

    sms_gateway_url: str | None = None
    sms_adapter: Literal["generic", "twilio"] = "generic"
    sms_api_key: SecretStr | None = None
    sms_account_sid: str | None = None
    sms_sender: str = "Werkbank"
    sms_timeout_seconds: float = Field(default=10.0, gt=0)
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    sms_per_recipient_per_day: int = Field(default=10, ge=1)
    sms_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret of the gateway's inbound webhook (STOP); unset: webhook off",
    )

    template_dir: Path | None = None
    held_poll_seconds: float = Field(default=30.0, gt=0)

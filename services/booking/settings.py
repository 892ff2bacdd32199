"""Settings of the booking service, read from `BOOKING_*` environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import EmailStr, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class BookingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BOOKING_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "booking"

    http_port: int = 8082
    organizer_name: str = "Digitale Werkbank"
    organizer_email: EmailStr = "werkbank@wirtschaftsfoerderung-dortmund.de"
    public_base_url: str | None = Field(
        default=None,
        description="Where attendees reach booking's pages (RSVP, feedback); required to start",
    )
    rsvp_secret: SecretStr | None = Field(
        default=None, description="HMAC key for attendee links; required to start"
    )
    reminder_leads_minutes: tuple[int, ...] = (24 * 60, 120)
    meeting_minutes: int = Field(default=60, ge=15, le=480)
    buffer_minutes: int = Field(default=15, ge=0, le=120)
    minimum_notice_hours: int = Field(default=24, ge=0)
    horizon_days: int = Field(default=42, ge=1, le=365)
    reminder_poll_seconds: float = Field(default=5.0, gt=0)
    options: int = Field(
        default=1,
        ge=1,
        le=5,
        description="Slots booked per match: the best is confirmed, the others held for declines",
    )
    group_size: int = Field(
        default=64,
        ge=1,
        le=256,
        description="Most match accepted events booked together in one transaction",
    )
    max_declines: int = Field(
        default=3, ge=1, description="After this many declines the meeting is cancelled"
    )
    feedback_days: int = Field(
        default=180, ge=1, description="How long a feedback link stays valid after the meeting"
    )
    answers_per_link_per_hour: int = Field(
        default=10, ge=1, description="RSVP and feedback answers through one link (429 beyond)"
    )
    answers_per_address_per_hour: int = Field(
        default=120, ge=1, description="Answers from one client address, any link (429 beyond)"
    )

    imap_host: str | None = Field(
        default=None, description="The organizer mailbox calendar answers arrive in; none: off"
    )
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_user: str = ""
    imap_password: SecretStr | None = None
    imap_tls: bool = Field(default=True, description="IMAP over TLS (implicit, port 993)")
    imap_folder: str = "INBOX"
    imap_processed_folder: str = Field(
        default="Werkbank-Processed", description="Where handled calendar answers are moved"
    )
    imap_poll_seconds: float = Field(
        default=30.0, gt=0, description="How often to look without IDLE, or to renew IDLE"
    )
    imap_batch: int = Field(default=200, ge=1, le=5000)

    calendar_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Passwords of providers' calendars by reference name (a JSON object); "
        "a registration names its reference, never the password",
    )
    calendar_refresh_seconds: float = Field(
        default=900.0, gt=0, description="How often each provider's calendar is fetched"
    )
    calendar_max_age_seconds: float = Field(
        default=300.0, ge=0, description="Before booking, a calendar older than this is fetched"
    )
    calendar_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Longest wait for one calendar server"
    )
    calendar_max_bytes: int = Field(
        default=5_000_000, ge=10_000, description="Largest calendar answer read"
    )
    calendar_poll_seconds: float = Field(
        default=10.0, gt=0, description="How often the background loops look for work"
    )

    @property
    def links_base(self) -> str:
        """The base of attendee links (relative before start-up has checked the setting)."""
        return (self.public_base_url or "").rstrip("/")

    def missing_for_links(self) -> list[str]:
        """The settings without which attendee links break (after a restart, or on another
        host): booking refuses to start without them."""
        missing = []
        if self.rsvp_secret is None or not self.rsvp_secret.get_secret_value():
            missing.append("BOOKING_RSVP_SECRET")
        if not self.public_base_url:
            missing.append("BOOKING_PUBLIC_BASE_URL")
        return missing

"""Staff API: a provider's own calendar (CalDAV or a read-only iCalendar feed), its status."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.booking.calendars import repository as calendars
from services.booking.calendars.repository import CalendarSource
from services.booking.settings import BookingSettings
from shared import audit
from shared.auth import GuardedRoute, Staff, Viewer
from shared.db import transaction
from shared.service import runtime_of

router = APIRouter(prefix="/api/booking/providers", tags=["calendars"], route_class=GuardedRoute)
ProviderId = Annotated[str, Path(min_length=1, max_length=64)]


class CalendarIn(BaseModel):
    """Where the provider's busy times come from. The password is not sent: ``secret_ref``
    names a secret configured for booking (``BOOKING_CALENDAR_SECRETS``)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["caldav", "ical"] = Field(
        description="caldav: a CalDAV calendar collection; ical: a read-only feed URL"
    )
    url: str = Field(min_length=1, max_length=2000, examples=["https://dav.example.de/cal/"])
    username: str = Field(default="", max_length=200)
    secret_ref: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    write_meetings: bool = Field(
        default=False, description="Write Werkbank's meetings into this (CalDAV) calendar"
    )

    @field_validator("url")
    @classmethod
    def _web_address(cls, url: str) -> str:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise ValueError("not a URL") from exc
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise ValueError("an http(s) URL with a host")
        if parsed.userinfo:
            raise ValueError("no credentials in the URL: use username and secret_ref")
        return url

    @field_validator("write_meetings")
    @classmethod
    def _fits_kind(cls, write: bool, info: ValidationInfo) -> bool:
        if write and info.data.get("kind") != "caldav":
            raise ValueError("only a caldav calendar can take Werkbank's meetings")
        return write


def _settings(request: Request) -> BookingSettings:
    settings = runtime_of(request).settings
    assert isinstance(settings, BookingSettings)
    return settings


@router.put("/{provider_id}/calendar")
async def put_calendar(
    provider_id: ProviderId, body: CalendarIn, request: Request, _: Staff
) -> dict[str, Any]:
    """Registers (or replaces) the calendar; its busy times count from its first fetch."""
    if body.secret_ref is not None and body.secret_ref not in _settings(request).calendar_secrets:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {"field": "secret_ref", "message": "no secret of that name is configured for booking"},
        )
    source = CalendarSource(provider_id=provider_id, **body.model_dump())
    async with transaction(runtime_of(request).pool) as conn:
        await calendars.register(conn, source)
        await audit.record(conn, request)
        return _shown(await calendars.status(conn, provider_id))


@router.get("/{provider_id}/calendar")
async def get_calendar(provider_id: ProviderId, request: Request, _: Viewer) -> dict[str, Any]:
    """The registration and how its fetching goes: ``stale`` when the last fetch failed and
    older busy times are in use (or none were ever fetched)."""
    async with transaction(runtime_of(request).pool) as conn:
        return _shown(await calendars.status(conn, provider_id))


@router.delete("/{provider_id}/calendar", status_code=status.HTTP_204_NO_CONTENT)
async def delete_calendar(provider_id: ProviderId, request: Request, _: Staff) -> Response:
    async with transaction(runtime_of(request).pool) as conn:
        if not await calendars.delete(conn, provider_id):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                {"field": "provider_id", "message": "no calendar registered"},
            )
        await audit.record(conn, request, status=status.HTTP_204_NO_CONTENT)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _shown(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, {"field": "provider_id", "message": "no calendar registered"}
        )
    return with_warning(row)


def with_warning(row: dict[str, Any]) -> dict[str, Any]:
    warning = calendar_warning(row)
    return {**row, "stale": warning is not None, "warning": warning}


def calendar_warning(row: dict[str, Any]) -> str | None:
    """What staff should know about the busy times in use, or None if they are current."""
    if row["failure"] is not None:
        since = "never fetched" if row["fetched_at"] is None else "older busy times in use"
        return f"the last fetch failed ({row['failure']}); {since}"
    if row["fetched_at"] is None:
        return "not fetched yet"
    return None

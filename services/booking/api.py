"""The staff HTTP API of the booking service, and the attendee endpoints behind signed links."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.booking import repository, service
from services.booking.domain import rsvp
from services.booking.settings import BookingSettings
from shared.db import transaction
from shared.events.booking import AttendeeResponse
from shared.http import StaffOnly
from shared.service import runtime_of

router = APIRouter(prefix="/api/booking", tags=["booking"])
attendees = APIRouter(prefix="/rsvp", tags=["attendees"])


class RoomIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    capacity: int = Field(default=6, ge=1, le=500)


class VenueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=300)
    kind: str = Field(default="in_person", pattern=r"^(in_person|virtual)$")
    video_url: str | None = Field(default=None, max_length=500)
    state: str = Field(default="NW", pattern=r"^[A-Z]{2}$")
    opening: dict[int, tuple[str, str]] = Field(default_factory=dict)
    rooms: list[RoomIn] = Field(default_factory=list)


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: AwareDatetime
    reason: str = Field(default="", max_length=1000)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=1000)


def _settings(request: Request) -> BookingSettings:
    settings = runtime_of(request).settings
    assert isinstance(settings, BookingSettings)
    return settings


@router.put("/venues/{venue_id}")
async def put_venue(venue_id: str, body: VenueIn, request: Request, _: StaffOnly) -> dict[str, str]:
    async with transaction(runtime_of(request).pool) as conn:
        await repository.upsert_venue(conn, venue_id, {"venue_id": venue_id, **body.model_dump()})
    return {"venue_id": venue_id}


@router.get("/venues")
async def list_venues(request: Request, _: StaffOnly) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        return await repository.venues(conn) or [service.DEFAULT_VENUE]


@router.get("/meetings")
async def list_meetings(
    request: Request,
    _: StaffOnly,
    status_filter: Annotated[str | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        return await repository.meetings(conn, status_filter, q, limit)


@router.post("/meetings/{meeting_id}/reschedule")
async def reschedule(
    meeting_id: str, body: RescheduleIn, request: Request, _: StaffOnly
) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        try:
            details = await service.reschedule(
                conn, meeting_id, body.start, _settings(request), datetime.now(UTC), body.reason
            )
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except service.SlotError as exc:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY, {"field": "start", "message": str(exc)}
            ) from exc
    service.MEETINGS.labels("rescheduled").inc()
    return {"meeting_id": meeting_id, "start": details.start.isoformat()}


@router.post("/meetings/{meeting_id}/cancel")
async def cancel(meeting_id: str, body: CancelIn, request: Request, _: StaffOnly) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        try:
            await service.cancel(conn, meeting_id, datetime.now(UTC), body.reason)
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    service.MEETINGS.labels("cancelled").inc()
    return {"meeting_id": meeting_id, "status": "cancelled"}


@attendees.get("/{token}")
async def answer(
    token: str,
    request: Request,
    response: Annotated[AttendeeResponse, Query()] = AttendeeResponse.ACCEPTED,
    comment: Annotated[str, Query(max_length=1000)] = "",
) -> dict[str, str]:
    runtime = runtime_of(request)
    try:
        claim = rsvp.verify(runtime.state["rsvp_secret"], token, datetime.now(UTC))
    except rsvp.InvalidTokenError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"invalid link: {exc}") from exc
    async with transaction(runtime.pool) as conn:
        try:
            await service.respond(conn, claim, response, comment)
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    return {"meeting_id": claim.meeting_id, "response": response.value}

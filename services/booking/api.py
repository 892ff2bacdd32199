"""The staff HTTP API of the booking service: meetings (list, reschedule, cancel, attendance).

Venues, rooms and availability are in ``places_api``; the attendee pages in ``attendees_api``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.booking import (
    aftercare,
    changes,
    followup_repository,
    free_slots,
    repository,
    service,
)
from services.booking.calendars import repository as calendars_repository
from services.booking.calendars.api import with_warning
from services.booking.calendars.service import refresh_before_booking
from services.booking.inbound import repository as inbound_repository
from services.booking.settings import BookingSettings
from shared import audit
from shared.auth import GuardedRoute, Staff, Viewer
from shared.db import transaction
from shared.events.booking import AttendanceStatus, MeetingDetails
from shared.events.common import PartyKind
from shared.service import runtime_of

router = APIRouter(prefix="/api/booking", tags=["booking"], route_class=GuardedRoute)


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: AwareDatetime
    reason: str = Field(default="", max_length=1000)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=1000)


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: AttendanceStatus
    no_show_party: PartyKind | None = Field(
        default=None, description="Who did not come, for a no-show; none means nobody came"
    )


def settings_of(request: Request) -> BookingSettings:
    settings = runtime_of(request).settings
    assert isinstance(settings, BookingSettings)
    return settings


def not_found(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))


@router.get("/meetings")
async def list_meetings(
    request: Request,
    _: Viewer,
    status_filter: Annotated[str | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        return await repository.meetings(conn, status_filter, q, limit)


@router.get("/meetings/attention")
async def meetings_needing_attention(
    request: Request, _: Viewer, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    """Upcoming or cancelled meetings that attendees declined, latest decline first."""
    async with transaction(runtime_of(request).pool) as conn:
        return await followup_repository.needing_attention(conn, datetime.now(UTC), limit)


@router.get("/meetings/{meeting_id}/answers")
async def meeting_answers(meeting_id: str, request: Request, _: Viewer) -> dict[str, Any]:
    """The attendees' answers to the current version of the meeting (an answer from before a
    move no longer counts), every answer given, by link or from a calendar client, and the new
    times attendees proposed from their calendar clients (COUNTER). ``provider_calendars``
    says whether the providers' own calendars were current when last fetched (``stale``)."""
    async with transaction(runtime_of(request).pool) as conn:
        row = await repository.meeting(conn, meeting_id)
        if row is None:
            raise not_found(service.NotFoundError(f"no meeting {meeting_id}"))
        return {
            "meeting_id": meeting_id,
            "sequence": row["sequence"],
            "status": row["status"],
            "current": await followup_repository.current_answers(conn, meeting_id),
            "history": await followup_repository.answer_history(conn, meeting_id),
            "proposals": await inbound_repository.proposals(conn, meeting_id),
            "provider_calendars": [
                with_warning(row) for row in await calendars_repository.of_meeting(conn, meeting_id)
            ],
        }


@router.get("/meetings/{meeting_id}/free-slots")
async def meeting_free_slots(
    meeting_id: str,
    request: Request,
    _: Viewer,
    count: Annotated[int, Query(ge=1, le=42)] = 10,
) -> list[free_slots.FreeSlot]:
    """Free times the meeting may move to (its room, both parties, opening hours, holidays),
    one per day, best first: what the console's slot picker offers."""
    await _refresh_provider_calendar(request, meeting_id)
    async with transaction(runtime_of(request).pool) as conn:
        try:
            return await free_slots.free_slots(
                conn, meeting_id, settings_of(request), datetime.now(UTC), count
            )
        except service.NotFoundError as exc:
            raise not_found(exc) from exc


async def _refresh_provider_calendar(request: Request, meeting_id: str) -> None:
    """The provider's busy times as current as for a booking (bounded by the time-out)."""
    pool = runtime_of(request).pool
    async with transaction(pool) as conn:
        row = await repository.meeting(conn, meeting_id)
    if row is not None:
        provider_id, _ = changes.party_ids(MeetingDetails.model_validate(row["details"]))
        await refresh_before_booking(pool, settings_of(request), [provider_id])


@router.post("/meetings/{meeting_id}/reschedule")
async def reschedule(
    meeting_id: str, body: RescheduleIn, request: Request, actor: Staff
) -> dict[str, Any]:
    runtime = runtime_of(request)
    await _refresh_provider_calendar(request, meeting_id)
    async with transaction(runtime.pool) as conn:
        try:
            details = await changes.reschedule(
                conn,
                meeting_id,
                body.start,
                settings_of(request),
                runtime.state["rsvp_secret"],
                datetime.now(UTC),
                body.reason,
                actor=actor.subject,
            )
        except service.NotFoundError as exc:
            raise not_found(exc) from exc
        except service.SlotError as exc:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, {"field": "start", "message": str(exc)}
            ) from exc
        await audit.record(conn, request)
    service.MEETINGS.labels("rescheduled").inc()
    return {"meeting_id": meeting_id, "start": details.start.isoformat()}


@router.post("/meetings/{meeting_id}/cancel")
async def cancel(meeting_id: str, body: CancelIn, request: Request, actor: Staff) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        try:
            await changes.cancel(
                conn, meeting_id, datetime.now(UTC), body.reason, actor=actor.subject
            )
        except service.NotFoundError as exc:
            raise not_found(exc) from exc
        await audit.record(conn, request)
    service.MEETINGS.labels("cancelled").inc()
    return {"meeting_id": meeting_id, "status": "cancelled"}


@router.post("/meetings/{meeting_id}/attendance")
async def mark_attendance(
    meeting_id: str, body: AttendanceIn, request: Request, actor: Staff
) -> dict[str, Any]:
    """Held or no-show; a held meeting gets a feedback link per attendee (also in the event)."""
    runtime = runtime_of(request)
    async with transaction(runtime.pool) as conn:
        try:
            event = await aftercare.record_attendance(
                conn,
                meeting_id,
                body.status,
                body.no_show_party,
                settings_of(request),
                runtime.state["rsvp_secret"],
                datetime.now(UTC),
                actor=actor.subject,
            )
        except service.NotFoundError as exc:
            raise not_found(exc) from exc
        except aftercare.NotYetError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        await audit.record(conn, request)
    return event.model_dump(mode="json", exclude={"type"})

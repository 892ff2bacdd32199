"""Feed URLs for staff (issue, revoke) and the feeds themselves for calendar clients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from services.booking.domain import feeds
from services.booking.feeds import repository
from services.booking.settings import BookingSettings
from shared import audit
from shared.auth import GuardedRoute, Staff
from shared.db import transaction
from shared.events.booking import MeetingDetails
from shared.service import runtime_of

staff_router = APIRouter(prefix="/api/booking/feeds", tags=["feeds"], route_class=GuardedRoute)
feed_router = APIRouter(prefix="/feeds", tags=["feeds"])
Kind = Literal["provider", "venue", "room"]
SubjectId = Annotated[str, Path(min_length=1, max_length=64)]
HISTORY = timedelta(days=90)  # a feed shows meetings from this long ago onwards


def _urls(request: Request, token: str) -> dict[str, str]:
    settings = runtime_of(request).settings
    assert isinstance(settings, BookingSettings)
    https = f"{settings.links_base}/feeds/{token}.ics"
    return {"url": "webcal://" + https.split("://", 1)[-1], "https_url": https}


@staff_router.post("/{kind}/{subject_id}")
async def feed_url(kind: Kind, subject_id: SubjectId, request: Request, _: Staff) -> Any:
    """The secret URL of the subject's feed (the same until it is revoked)."""
    runtime = runtime_of(request)
    async with transaction(runtime.pool) as conn:
        generation = await repository.current_generation(conn, kind, subject_id)
        await audit.record(conn, request)
    claim = feeds.FeedClaim(kind, subject_id, generation)
    return _urls(request, feeds.issue(runtime.state["rsvp_secret"], claim))


@staff_router.delete("/{kind}/{subject_id}")
async def revoke_feed(kind: Kind, subject_id: SubjectId, request: Request, _: Staff) -> Any:
    """Every URL issued so far stops working; the answer holds the new one."""
    runtime = runtime_of(request)
    async with transaction(runtime.pool) as conn:
        generation = await repository.revoke(conn, kind, subject_id)
        await audit.record(conn, request)
    claim = feeds.FeedClaim(kind, subject_id, generation)
    return _urls(request, feeds.issue(runtime.state["rsvp_secret"], claim))


@feed_router.get("/{token}.ics")
async def feed(token: Annotated[str, Path(max_length=400)], request: Request) -> Response:
    """The feed; an unknown, forged or revoked URL is 404 (it does not say which)."""
    runtime = runtime_of(request)
    try:
        claim = feeds.verify(runtime.state["rsvp_secret"], token)
    except feeds.InvalidFeedTokenError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such feed") from exc
    now = datetime.now(UTC)
    async with transaction(runtime.pool) as conn:
        if await repository.generation(conn, claim.kind, claim.subject_id) != claim.generation:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such feed")
        rows = await repository.meetings(conn, claim.kind, claim.subject_id, now - HISTORY)
    text = feeds.feed_ics(
        f"Digitale Werkbank: {claim.subject_id}", (feed_meeting(row) for row in rows), now
    )
    return Response(text, media_type="text/calendar; charset=utf-8")


def feed_meeting(row: dict[str, Any]) -> feeds.FeedMeeting:
    details = MeetingDetails.model_validate_json(row["details"])
    place = details.place
    where = (
        place.video_url
        if place.kind == "virtual" and place.video_url
        else ", ".join(part for part in (place.name, place.room_name, place.address) if part)
    )
    return feeds.FeedMeeting(
        uid=row["uid"],
        sequence=row["sequence"],
        cancelled=row["status"] == "cancelled",
        title=details.title,
        start=details.start,
        end=details.end,
        place=where or place.name,
        parties=tuple(dict.fromkeys(a.party_name for a in details.attendees)),
    )

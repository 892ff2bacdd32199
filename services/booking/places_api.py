"""Staff API for places and times: venues with their rooms, provider and company availability."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from services.booking import places_repository, repository
from services.booking.domain.calendar import GERMAN_SUBDIVISIONS
from services.booking.places import DEFAULT_VENUE
from shared import audit
from shared.auth import Admin, GuardedRoute, Staff, Viewer
from shared.db import transaction
from shared.service import runtime_of

router = APIRouter(prefix="/api/booking", tags=["places"], route_class=GuardedRoute)
Weekday = Annotated[int, Field(ge=0, le=6, description="0 = Monday")]
PartyPath = Literal["providers", "companies"]
PARTY_KINDS = {"providers": "provider", "companies": "company"}


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self

    def pair(self) -> list[str]:
        return [self.start.isoformat("minutes"), self.end.isoformat("minutes")]


class DatedWindowIn(WindowIn):
    date: date


class AvailabilityIn(BaseModel):
    """Local times (Europe/Berlin). For a provider: when they can meet (a hard limit). For a
    company: preferred windows (slots inside them come first, others only if none fits)."""

    model_config = ConfigDict(extra="forbid")
    weekly: dict[Weekday, list[WindowIn]] = Field(default_factory=dict)
    dates_off: list[date] = Field(default_factory=list, max_length=1000)
    extra: list[DatedWindowIn] = Field(
        default_factory=list, max_length=1000, description="Extra hours on single dates"
    )

    def doc(self) -> dict[str, Any]:
        return {
            "weekly": {str(day): [w.pair() for w in spans] for day, spans in self.weekly.items()},
            "dates_off": [day.isoformat() for day in self.dates_off],
            "extra": [
                {"date": w.date.isoformat(), **dict(zip(("start", "end"), w.pair(), strict=True))}
                for w in self.extra
            ],
        }


class RoomIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    capacity: int = Field(default=6, ge=1, le=500)
    equipment: list[str] = Field(default_factory=list, max_length=50)


class VenueRoomIn(RoomIn):
    room_id: str = Field(min_length=1, max_length=64)


class VenueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=300)
    kind: Literal["in_person", "virtual"] = "in_person"
    video_url: str | None = Field(default=None, max_length=500, pattern=r"^https://")
    state: str = Field(
        default="NW",
        description="The German state (or Augsburg) whose public holidays close the venue",
        json_schema_extra={"enum": list[JsonValue](sorted(GERMAN_SUBDIVISIONS))},
    )
    opening: dict[Weekday, tuple[time, time]] = Field(
        default_factory=dict, description='Local opening hours, e.g. {"0": ["09:00", "17:00"]}'
    )
    closures: list[date] = Field(default_factory=list, max_length=1000)
    rooms: list[VenueRoomIn] = Field(default_factory=list)

    @field_validator("state")
    @classmethod
    def _known_state(cls, state: str) -> str:
        if state not in GERMAN_SUBDIVISIONS:
            msg = f"unknown state; one of {', '.join(sorted(GERMAN_SUBDIVISIONS))}"
            raise ValueError(msg)
        return state

    @model_validator(mode="after")
    def _kind_fits(self) -> Self:
        if self.kind == "virtual" and not self.video_url:
            raise ValueError("a virtual venue needs a video_url")
        if self.kind == "virtual" and self.rooms:
            raise ValueError("a virtual venue has no rooms")
        if self.kind == "in_person" and not self.address:
            raise ValueError("an in-person venue needs an address")
        if any(opens >= closes for opens, closes in self.opening.values()):
            raise ValueError("opening hours must open before they close")
        return self

    def doc(self, venue_id: str) -> dict[str, Any]:
        doc = self.model_dump(mode="json", exclude={"opening"})
        doc["opening"] = {
            str(day): [opens.isoformat("minutes"), closes.isoformat("minutes")]
            for day, (opens, closes) in self.opening.items()
        }
        return {"venue_id": venue_id, **doc}


def _missing(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no {what}")


@router.put("/venues/{venue_id}")
async def put_venue(venue_id: str, body: VenueIn, request: Request, _: Admin) -> dict[str, str]:
    async with transaction(runtime_of(request).pool) as conn:
        await repository.upsert_venue(conn, venue_id, body.doc(venue_id))
        await audit.record(conn, request)
    return {"venue_id": venue_id}


@router.get("/venues")
async def list_venues(request: Request, _: Viewer) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        return await repository.venues(conn) or [DEFAULT_VENUE]


@router.get("/venues/{venue_id}")
async def get_venue(venue_id: str, request: Request, _: Viewer) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        venue = await places_repository.venue(conn, venue_id)
    if venue is None:
        raise _missing(f"venue {venue_id}")
    return venue


@router.delete("/venues/{venue_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_venue(venue_id: str, request: Request, _: Admin) -> Response:
    """Refused (409) while upcoming meetings take place there: move or cancel them first."""
    async with transaction(runtime_of(request).pool) as conn:
        if upcoming := await places_repository.upcoming_meetings_at(conn, venue_id):
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"{upcoming} upcoming meetings take place there"
            )
        if not await places_repository.delete_venue(conn, venue_id):
            raise _missing(f"venue {venue_id}")
        await audit.record(conn, request, status=status.HTTP_204_NO_CONTENT)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/venues/{venue_id}/rooms/{room_id}")
async def put_room(
    venue_id: str, room_id: str, body: RoomIn, request: Request, _: Admin
) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        venue = await places_repository.venue(conn, venue_id, for_update=True)
        if venue is None:
            raise _missing(f"venue {venue_id}")
        if venue.get("kind") == "virtual":
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "a virtual venue has no rooms"
            )
        room = {"room_id": room_id, **body.model_dump(mode="json")}
        others = [r for r in venue.get("rooms", []) if r["room_id"] != room_id]
        await repository.upsert_venue(conn, venue_id, {**venue, "rooms": [*others, room]})
        await audit.record(conn, request)
    return room


@router.delete("/venues/{venue_id}/rooms/{room_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_room(venue_id: str, room_id: str, request: Request, _: Admin) -> Response:
    async with transaction(runtime_of(request).pool) as conn:
        venue = await places_repository.venue(conn, venue_id, for_update=True)
        rooms = (venue or {}).get("rooms", [])
        if venue is None or all(r["room_id"] != room_id for r in rooms):
            raise _missing(f"room {room_id} in venue {venue_id}")
        remaining = [r for r in rooms if r["room_id"] != room_id]
        await repository.upsert_venue(conn, venue_id, {**venue, "rooms": remaining})
        await audit.record(conn, request, status=status.HTTP_204_NO_CONTENT)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{party}/{party_id}/availability")
async def put_availability(
    party: PartyPath, party_id: str, body: AvailabilityIn, request: Request, _: Staff
) -> dict[str, Any]:
    doc = body.doc()
    async with transaction(runtime_of(request).pool) as conn:
        await places_repository.put_availability(conn, PARTY_KINDS[party], party_id, doc)
        await audit.record(conn, request)
    return doc


@router.get("/{party}/{party_id}/availability")
async def get_availability(
    party: PartyPath, party_id: str, request: Request, _: Viewer
) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        doc = await places_repository.availability(conn, PARTY_KINDS[party], party_id)
    if doc is None:
        raise _missing(f"availability for {party_id}")
    return doc


@router.delete("/{party}/{party_id}/availability", status_code=status.HTTP_204_NO_CONTENT)
async def delete_availability(
    party: PartyPath, party_id: str, request: Request, _: Staff
) -> Response:
    async with transaction(runtime_of(request).pool) as conn:
        if not await places_repository.delete_availability(conn, PARTY_KINDS[party], party_id):
            raise _missing(f"availability for {party_id}")
        await audit.record(conn, request, status=status.HTTP_204_NO_CONTENT)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

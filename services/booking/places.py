"""Venues and availability as the slot search sees them, read from booking's own tables."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, time
from typing import Any

import asyncpg

from services.booking import places_repository
from services.booking.domain.availability import Availability, availability_from_doc
from services.booking.domain.calendar import Room, Venue

DEFAULT_VENUE = {
    "venue_id": "werkbank",
    "name": "Digitale Werkbank",
    "address": "Königswall 21, 44137 Dortmund",
    "kind": "in_person",
    "rooms": [
        {"room_id": "werkbank-1", "name": "Werkraum 1"},
        {"room_id": "werkbank-2", "name": "Werkraum 2"},
    ],
}


def venue_from_doc(doc: dict[str, Any]) -> Venue:
    opening = {
        int(day): (time.fromisoformat(hours[0]), time.fromisoformat(hours[1]))
        for day, hours in doc.get("opening", {}).items()
    }
    venue = Venue(
        venue_id=doc["venue_id"],
        name=doc["name"],
        address=doc.get("address", ""),
        kind=doc.get("kind", "in_person"),
        video_url=doc.get("video_url"),
        state=doc.get("state", "NW"),
        closures=tuple(date.fromisoformat(day) for day in doc.get("closures", [])),
        rooms=tuple(
            Room(r["room_id"], r["name"], r.get("capacity", 6), tuple(r.get("equipment", ())))
            for r in doc.get("rooms", [])
        ),
    )
    return replace(venue, opening=opening) if opening else venue


@dataclass(frozen=True)
class Wishes:
    """The availability that limits (provider) or guides (company) the slot search."""

    provider: Availability | None = None
    company: Availability | None = None


async def wishes_of(conn: asyncpg.Connection, provider_id: str, company_id: str) -> Wishes:
    docs = await places_repository.availability_of(conn, provider_id, company_id)
    return Wishes(
        provider=availability_from_doc(docs["provider"]) if "provider" in docs else None,
        company=availability_from_doc(docs["company"]) if "company" in docs else None,
    )


async def wishes_of_many(
    conn: asyncpg.Connection, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], Wishes]:
    """``wishes_of`` for many (provider id, company id) pairs, in one round trip."""
    parties = sorted({("provider", p) for p, _ in pairs} | {("company", c) for _, c in pairs})
    docs = await places_repository.availability_of_many(conn, parties)
    found = {key: availability_from_doc(doc) for key, doc in docs.items()}
    return {
        (p, c): Wishes(provider=found.get(("provider", p)), company=found.get(("company", c)))
        for p, c in pairs
    }

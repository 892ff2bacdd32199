"""Venues and availability as the slot search sees them, read from booking's own tables."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, time
from typing import Any

import asyncpg

from services.booking import places_repository
from services.booking.domain.availability import Availability, availability_from_doc
from services.booking.domain.calendar import Room, Venue

log = logging.getLogger(__name__)

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


def usable_venues(docs: Iterable[dict[str, Any]]) -> list[Venue]:
    """The venues that can be read; a broken one is logged and skipped, so that it never stops
    booking at the others."""
    venues: list[Venue] = []
    for doc in docs:
        try:
            venues.append(venue_from_doc(doc))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.error(
                "venue skipped: unreadable",
                extra={"venue_id": str(doc.get("venue_id"))[:64], "error": type(exc).__name__},
            )
    return venues


@dataclass(frozen=True)
class Wishes:
    """The availability that limits (provider) or guides (company) the slot search."""

    provider: Availability | None = None
    company: Availability | None = None
    unreadable: tuple[str, ...] = field(default=())
    """The parties whose stored availability cannot be read: their match is not booked."""


def _readable(
    docs: dict[tuple[str, str], Any],
) -> tuple[dict[tuple[str, str], Availability], set[tuple[str, str]]]:
    found: dict[tuple[str, str], Availability] = {}
    broken: set[tuple[str, str]] = set()
    for key, doc in docs.items():
        try:
            found[key] = availability_from_doc(doc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.error(
                "availability unreadable",
                extra={"party": f"{key[0]}:{key[1][:64]}", "error": type(exc).__name__},
            )
            broken.add(key)
    return found, broken


def _wishes(
    provider_id: str,
    company_id: str,
    found: dict[tuple[str, str], Availability],
    broken: set[tuple[str, str]],
) -> Wishes:
    parties = (("provider", provider_id), ("company", company_id))
    return Wishes(
        provider=found.get(("provider", provider_id)),
        company=found.get(("company", company_id)),
        unreadable=tuple(f"{kind}:{party}" for kind, party in parties if (kind, party) in broken),
    )


async def wishes_of(conn: asyncpg.Connection, provider_id: str, company_id: str) -> Wishes:
    docs = await places_repository.availability_of(conn, provider_id, company_id)
    keyed = {
        (kind, provider_id if kind == "provider" else company_id): d for kind, d in docs.items()
    }
    found, broken = _readable(keyed)
    return _wishes(provider_id, company_id, found, broken)


async def wishes_of_many(
    conn: asyncpg.Connection, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], Wishes]:
    """``wishes_of`` for many (provider id, company id) pairs, in one round trip."""
    parties = sorted({("provider", p) for p, _ in pairs} | {("company", c) for _, c in pairs})
    docs = await places_repository.availability_of_many(conn, parties)
    found, broken = _readable(docs)
    return {(p, c): _wishes(p, c, found, broken) for p, c in pairs}

"""Subscribable calendar feeds (webcal) of a provider, a venue or a room. Pure.

A feed URL carries a signed token naming the subject and its generation: revoking a feed
raises the generation, and every URL issued before stops working. A feed shows the meetings'
time, place, title and the organisations taking part, never a person's contact data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event, vText

from services.booking.domain.calendar import BERLIN
from services.booking.domain.timezones import vtimezone

KINDS = ("provider", "venue", "room")
PRODID = "-//Werkbank//Digitale Werkbank Feeds//DE"


class InvalidFeedTokenError(ValueError):
    pass


@dataclass(frozen=True)
class FeedClaim:
    kind: str
    subject_id: str
    generation: int


@dataclass(frozen=True)
class FeedMeeting:
    uid: str
    sequence: int
    cancelled: bool
    title: str
    start: datetime
    end: datetime
    place: str
    parties: tuple[str, ...]  # the organisations taking part, by name


def _signature(secret: bytes, payload: str) -> str:
    key = hmac.new(secret, b"werkbank:feed", hashlib.sha256).digest()
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(secret: bytes, claim: FeedClaim) -> str:
    payload = f"{claim.kind}|{claim.subject_id}|{claim.generation}"
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{encoded}.{_signature(secret, payload)}"


def verify(secret: bytes, token: str) -> FeedClaim:
    try:
        encoded, signature = token.split(".", 1)
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        kind, subject_id, generation = payload.split("|")
        claim = FeedClaim(kind, subject_id, int(generation))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidFeedTokenError("malformed token") from exc
    expected = _signature(secret, payload).encode()
    if not hmac.compare_digest(signature.encode("utf-8", "surrogateescape"), expected):
        raise InvalidFeedTokenError("bad signature")
    if claim.kind not in KINDS:
        raise InvalidFeedTokenError("unknown feed")
    return claim


def feed_ics(name: str, meetings: Iterable[FeedMeeting], stamp: datetime) -> str:
    """One VCALENDAR (no METHOD: a published calendar, not a scheduling message)."""
    meetings = list(meetings)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", vText(name))
    calendar.add("x-wr-timezone", BERLIN.key)
    for meeting in meetings:
        calendar.add_component(_event(meeting, stamp))
    text: str = calendar.to_ical().decode("utf-8")
    if not meetings:
        return text
    years = [m.start.astimezone(BERLIN).year for m in meetings]
    zone = vtimezone(BERLIN.key, min(years), max(years) + 1)
    return text.replace("BEGIN:VEVENT\r\n", zone + "BEGIN:VEVENT\r\n", 1)


def _event(meeting: FeedMeeting, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", meeting.start.astimezone(BERLIN))
    event.add("dtend", meeting.end.astimezone(BERLIN))
    event.add("summary", f"Digitale Werkbank: {meeting.title}")
    event.add("location", vText(meeting.place))
    event.add("description", vText("Beteiligt: " + ", ".join(meeting.parties)))
    event.add("status", "CANCELLED" if meeting.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event

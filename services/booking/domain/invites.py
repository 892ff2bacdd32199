"""iCalendar objects for invites, updates and cancellations (RFC 5545/5546), per attendee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vText

from services.booking.domain.calendar import BERLIN

PRODID = "-//Werkbank//Digitale Werkbank Booking//DE"

DESCRIPTIONS = {
    "de": (
        "Erstgespräch der Digitalen Werkbank zu: {title}\n"
        "Teilnehmende: {people}\n"
        "Ort: {place}\n"
        "Zusagen, absagen oder einen anderen Termin erbitten: {rsvp}"
    ),
    "en": (
        "First meeting arranged by the Digitale Werkbank about: {title}\n"
        "Participants: {people}\n"
        "Place: {place}\n"
        "Accept, decline or ask for another time: {rsvp}"
    ),
}
SUMMARIES = {"de": "Digitale Werkbank: {title}", "en": "Digitale Werkbank: {title}"}


@cache
def _berlin_timezone() -> str:
    """The VTIMEZONE of every invite: slow to build, the same each time (icalendar: cache it)."""
    text: str = Timezone.from_tzid(BERLIN.key).to_ical().decode("utf-8")
    return text


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class InviteSpec:
    uid: str
    sequence: int
    method: str  # REQUEST or CANCEL
    title: str
    start: datetime
    end: datetime
    location: str
    organizer: Person
    attendees: tuple[Person, ...]
    stamp: datetime
    video_url: str | None = None


def build_ics(spec: InviteSpec, *, locale: str, rsvp_url: str = "") -> str:
    """One VCALENDAR for one recipient; the description speaks the recipient's language."""
    language = locale if locale in DESCRIPTIONS else "de"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", spec.method)
    event = Event()
    event.add("uid", spec.uid)
    event.add("sequence", spec.sequence)
    event.add("dtstamp", spec.stamp)
    event.add("dtstart", spec.start.astimezone(BERLIN))
    event.add("dtend", spec.end.astimezone(BERLIN))
    event.add("summary", SUMMARIES[language].format(title=spec.title))
    event.add("location", vText(spec.location))
    people = ", ".join(person.name for person in spec.attendees)
    event.add(
        "description",
        DESCRIPTIONS[language].format(
            title=spec.title, people=people, place=spec.location, rsvp=rsvp_url or "-"
        ),
    )
    if spec.video_url:
        event.add("url", spec.video_url)
    event.add("status", "CANCELLED" if spec.method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{spec.organizer.email}")
    organizer.params["CN"] = vText(spec.organizer.name)
    event.add("organizer", organizer)
    for person in spec.attendees:
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["CN"] = vText(person.name)
        attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
        attendee.params["PARTSTAT"] = vText("NEEDS-ACTION")
        attendee.params["RSVP"] = vText("TRUE")
        event.add("attendee", attendee, encode=False)
    if spec.method != "CANCEL":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", SUMMARIES[language].format(title=spec.title))
        alarm.add("trigger", timedelta(minutes=-30))
        event.add_component(alarm)
    calendar.add_component(event)
    text: str = calendar.to_ical().decode("utf-8")
    return text.replace("BEGIN:VEVENT\r\n", _berlin_timezone() + "BEGIN:VEVENT\r\n", 1)

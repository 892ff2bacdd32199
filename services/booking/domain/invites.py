"""iCalendar objects for invites, updates and cancellations (RFC 5545/5546), per attendee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from icalendar import Alarm, Calendar, Event, vCalAddress, vText
from icalendar.parser import Contentline, Parameters

from services.booking.domain.calendar import BERLIN
from services.booking.domain.timezones import vtimezone

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
# A cancellation asks for no answer.
CANCELLED_DESCRIPTIONS = {
    "de": (
        "Abgesagt: Erstgespräch der Digitalen Werkbank zu: {title}\n"
        "Teilnehmende: {people}\n"
        "Ort: {place}"
    ),
    "en": (
        "Cancelled: first meeting arranged by the Digitale Werkbank about: {title}\n"
        "Participants: {people}\n"
        "Place: {place}"
    ),
}
SUMMARIES = {"de": "Digitale Werkbank: {title}", "en": "Digitale Werkbank: {title}"}


def _berlin_timezone(year: int) -> str:
    """The VTIMEZONE for a meeting in ``year``: its transitions from that year to the end of the
    next, which covers the meeting (a few hundred bytes instead of every year since 1970; the
    text is sent twice in every invitation)."""
    return vtimezone(BERLIN.key, year, year + 1)


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
    return InviteTexts(spec).for_recipient(locale, rsvp_url)


# Short stand-ins for the texts in the recipient's language, each replaced by its folded line:
# icalendar builds one calendar per meeting version instead of one per recipient.
_SUMMARY = "@@werkbank-summary@@"
_DESCRIPTION = "@@werkbank-description@@"
_REMINDER = "@@werkbank-reminder@@"


class InviteTexts:
    """The calendar objects of one meeting version, one per recipient.

    icalendar builds the VCALENDAR once; each recipient's text then differs only in the lines
    in their language and their own RSVP link, which icalendar escapes and folds.
    """

    def __init__(self, spec: InviteSpec) -> None:
        self._spec = spec
        self._template: str | None = None

    def for_recipient(self, locale: str, rsvp_url: str = "") -> str:
        if self._template is None:
            self._template = _calendar_template(self._spec)
        language = locale if locale in DESCRIPTIONS else "de"
        spec = self._spec
        summary = SUMMARIES[language].format(title=spec.title)
        texts = CANCELLED_DESCRIPTIONS if spec.method == "CANCEL" else DESCRIPTIONS
        description = texts[language].format(
            title=spec.title,
            people=", ".join(person.name for person in spec.attendees),
            place=spec.location,
            rsvp=rsvp_url or "-",
        )
        return (
            self._template.replace(_line("SUMMARY", _SUMMARY), _line("SUMMARY", summary), 1)
            .replace(_line("DESCRIPTION", _DESCRIPTION), _line("DESCRIPTION", description), 1)
            .replace(_line("DESCRIPTION", _REMINDER), _line("DESCRIPTION", summary), 1)
        )


def _line(name: str, text: str) -> str:
    """One property as icalendar writes it: escaped, folded at 75 octets, CRLF-terminated."""
    line: bytes = Contentline.from_parts(name, Parameters(), vText(text)).to_ical()
    return line.decode("utf-8") + "\r\n"


# The time and place stand in one line of the draft (built once per meeting version, ahead of
# the slot search) and are filled in when the slot is known.
_WHEN_AND_WHERE = "X-WERKBANK-WHEN-AND-WHERE:@@\r\n"


def _calendar_template(spec: InviteSpec) -> str:
    draft = calendar_draft(
        spec.uid, spec.sequence, spec.method, spec.organizer, spec.attendees, spec.stamp
    )
    text = draft.replace(_WHEN_AND_WHERE, _when_and_where(spec), 1)
    zone = _berlin_timezone(spec.start.astimezone(BERLIN).year)
    return text.replace("BEGIN:VEVENT\r\n", zone + "BEGIN:VEVENT\r\n", 1)


def _when_and_where(spec: InviteSpec) -> str:
    event = Event()
    event.add("dtstart", spec.start.astimezone(BERLIN))
    event.add("dtend", spec.end.astimezone(BERLIN))
    event.add("location", vText(spec.location))
    if spec.video_url:
        event.add("url", spec.video_url)
    lines: str = event.to_ical().decode("utf-8")
    return lines.removeprefix("BEGIN:VEVENT\r\n").removesuffix("END:VEVENT\r\n")


@lru_cache(maxsize=1024)
def calendar_draft(
    uid: str,
    sequence: int,
    method: str,
    organizer: Person,
    attendees: tuple[Person, ...],
    stamp: datetime,
) -> str:
    """Everything but the time, the place and the texts in the recipient's language; kept, so
    that a booking can build it before it knows the slot (outside its locks)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("summary", _SUMMARY)
    event.add("description", _DESCRIPTION)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add(_WHEN_AND_WHERE.split(":", maxsplit=1)[0], "@@")
    event_organizer = vCalAddress(f"mailto:{organizer.email}")
    event_organizer.params["CN"] = vText(organizer.name)
    event.add("organizer", event_organizer)
    for person in attendees:
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["CN"] = vText(person.name)
        attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
        if method != "CANCEL":
            attendee.params["PARTSTAT"] = vText("NEEDS-ACTION")
            attendee.params["RSVP"] = vText("TRUE")
        event.add("attendee", attendee, encode=False)
    if method != "CANCEL":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _REMINDER)
        alarm.add("trigger", timedelta(minutes=-30))
        event.add_component(alarm)
    calendar.add_component(event)
    text: str = calendar.to_ical().decode("utf-8")
    if _WHEN_AND_WHERE not in text:
        raise AssertionError("the draft must keep the line for the time and place")
    return text

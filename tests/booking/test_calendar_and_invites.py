"""Slot search, DST days, and the iCalendar checklist: pure domain tests."""
# mypy: disable-error-code="union-attr, arg-type"
# icalendar types each property as a union of all value types; the tests read known ones.

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from services.booking.domain import rsvp
from services.booking.domain.calendar import BERLIN, MeetingType, Room, Venue, find_slots
from services.booking.domain.invites import InviteSpec, Person, build_ics

VENUE = Venue(
    "werkbank",
    "Digitale Werkbank",
    "Königswall 21, 44137 Dortmund",
    rooms=(Room("r1", "Werkraum 1"), Room("r2", "Werkraum 2")),
)


def spec(start: datetime, *, sequence: int = 0, method: str = "REQUEST") -> InviteSpec:
    return InviteSpec(
        uid="mtg-1@werkbank",
        sequence=sequence,
        method=method,
        title="Kundenchat",
        start=start,
        end=start + timedelta(hours=1),
        location="Digitale Werkbank, Werkraum 1",
        organizer=Person("Digitale Werkbank", "werkbank@example.org"),
        attendees=(
            Person("Petra Schulte", "petra@example.org"),
            Person("Aylin Demir", "aylin@example.org"),
        ),
        stamp=datetime(2026, 3, 1, 8, tzinfo=UTC),
    )


@pytest.mark.parametrize("day", ["2026-03-29", "2026-10-25"])
def test_a_meeting_on_a_clock_change_day_lands_at_the_intended_local_time(day: str) -> None:
    start = datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=BERLIN)
    ics = build_ics(spec(start), locale="de")
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert event["DTSTART"].dt.hour == 10
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    parsed = IcsCalendarStream.calendar_from_ics(ics).events[0]
    assert parsed.dtstart.astimezone(BERLIN).hour == 10  # type: ignore[union-attr]
    expected_utc = 8 if day == "2026-03-29" else 9
    assert parsed.dtstart.astimezone(UTC).hour == expected_utc  # type: ignore[union-attr]


def test_every_invite_carries_the_checklist_and_parses_with_two_parsers() -> None:
    ics = build_ics(
        spec(datetime(2026, 6, 2, 10, tzinfo=BERLIN)), locale="en", rsvp_url="https://x/r/1"
    )
    assert "\r\n" in ics
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    calendar = Calendar.from_ical(ics)
    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert calendar.walk("VTIMEZONE")
    event = calendar.walk("VEVENT")[0]
    for prop in (
        "UID",
        "DTSTAMP",
        "SEQUENCE",
        "ORGANIZER",
        "LOCATION",
        "DESCRIPTION",
        "DTSTART",
        "DTEND",
    ):
        assert prop in event, prop
    attendees = event["ATTENDEE"]
    assert len(attendees) == 2
    for attendee in attendees:
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert str(attendee) != str(event["ORGANIZER"])
    assert "Accept, decline" in str(event["DESCRIPTION"])
    assert event.walk("VALARM")
    assert IcsCalendarStream.calendar_from_ics(ics).events[0].uid == "mtg-1@werkbank"


def test_the_description_speaks_the_attendees_language() -> None:
    start = datetime(2026, 6, 2, 10, tzinfo=BERLIN)
    assert "Erstgespräch" in build_ics(spec(start), locale="de")
    assert "First meeting" in build_ics(spec(start), locale="en")


def test_request_then_reschedule_then_cancel_keep_the_uid_and_raise_the_sequence() -> None:
    start = datetime(2026, 6, 2, 10, tzinfo=BERLIN)
    versions = [
        build_ics(spec(start), locale="de"),
        build_ics(spec(start + timedelta(days=1), sequence=1), locale="de"),
        build_ics(spec(start + timedelta(days=1), sequence=2, method="CANCEL"), locale="de"),
    ]
    events = [Calendar.from_ical(v).walk("VEVENT")[0] for v in versions]
    assert {str(e["UID"]) for e in events} == {"mtg-1@werkbank"}
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    cancel = Calendar.from_ical(versions[2])
    assert cancel["METHOD"] == "CANCEL"
    assert events[2]["STATUS"] == "CANCELLED"


def test_slots_skip_holidays_weekends_and_busy_people() -> None:
    now = datetime(2026, 12, 22, 12, tzinfo=UTC)  # Tuesday; 24-26 Dec are holidays or closed
    kind = MeetingType(minimum_notice=timedelta(hours=24))
    [(start, room)] = find_slots(VENUE, kind, now, {}, ["p", "c"])
    assert start == datetime(2026, 12, 23, 13, 0, tzinfo=BERLIN)  # 12:00 UTC + 24 h notice
    busy = {"p": [(start - timedelta(hours=3), start + timedelta(days=1, hours=12))]}
    [(later, _)] = find_slots(VENUE, kind, now, busy, ["p", "c"])
    assert later.date().isoformat() == "2026-12-28"
    assert room is not None


def test_the_venue_says_why_a_time_cannot_be_booked() -> None:
    holiday = datetime(2026, 12, 25, 10, tzinfo=BERLIN)
    assert "holiday" in (VENUE.why_closed(holiday, holiday + timedelta(hours=1)) or "")
    evening = datetime(2026, 6, 2, 17, 30, tzinfo=BERLIN)
    assert "opening hours" in (VENUE.why_closed(evening, evening + timedelta(hours=1)) or "")


def test_a_forged_or_expired_rsvp_token_is_refused() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    token = rsvp.issue(b"secret", "mtg-1", "c-1", now + timedelta(days=1))
    assert rsvp.verify(b"secret", token, now).contact_id == "c-1"
    with pytest.raises(rsvp.InvalidTokenError):
        rsvp.verify(b"other", token, now)
    with pytest.raises(rsvp.InvalidTokenError):
        rsvp.verify(b"secret", token, now + timedelta(days=2))
    with pytest.raises(rsvp.InvalidTokenError):
        rsvp.verify(b"secret", token.replace("a", "b", 1) + "x", now)

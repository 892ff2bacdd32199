"""The invite defects independent parsers found (issue 14, section 4): pure tests."""
# mypy: disable-error-code="union-attr, arg-type, index, attr-defined"

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar as ICalendar
from icalendar import Timezone

from services.booking.domain.invites import InviteSpec, Person, build_ics
from services.booking.domain.timezones import vtimezone
from services.booking.invitations import build_calendar
from services.notify.domain.messages import ascii_address
from shared.events.booking import (
    Attendee,
    CalendarMethod,
    MeetingDetails,
    Organizer,
    Place,
)
from shared.events.common import Contact, PartyKind
from tests.support.calendar_checks import check_calendar_object, vtimezone_disagreements

pytestmark = pytest.mark.unit
BERLIN = ZoneInfo("Europe/Berlin")
UNICODE_ADDRESS = "sabine.wolf@reisebüro-straße.example"


def details(email: str = UNICODE_ADDRESS) -> MeetingDetails:
    start = datetime(2026, 3, 30, 10, tzinfo=BERLIN)
    return MeetingDetails(
        meeting_id="mtg-1",
        match_id="match-1",
        need_id="need-1",
        title="Kundenchat",
        start=start,
        end=start + timedelta(hours=1),
        place=Place(venue_id="werkbank", name="Digitale Werkbank", kind="in_person"),
        organizer=Organizer(name="Digitale Werkbank", email="werkbank@example.org"),
        attendees=(
            Attendee(
                party_id="co-1",
                party_kind=PartyKind.COMPANY,
                party_name="Reisebüro",
                contact=Contact(contact_id="c-1", name="Sabine Wolf", email=email),
                rsvp_url="https://booking.example/rsvp/abc",
            ),
        ),
    )


def only_invitation(method: CalendarMethod = CalendarMethod.REQUEST) -> str:
    calendar = build_calendar(details(), "uid-1@werkbank", 0, method, datetime.now(UTC))
    return calendar.invitations[0].ics


def test_the_attendee_line_carries_the_very_address_the_mail_goes_to() -> None:
    event = check_calendar_object(only_invitation()).walk("VEVENT")[0]
    attendee = str(event["ATTENDEE"])
    assert attendee == f"mailto:{ascii_address(UNICODE_ADDRESS)}"
    # IDNA 2008: "ß" stays a letter of its own (IDNA 2003 made it "ss", another domain).
    assert attendee == "mailto:sabine.wolf@xn--reisebro-strae-dgb07b.example"


def spec(start: datetime, method: str = "REQUEST") -> InviteSpec:
    return InviteSpec(
        uid="mtg-1@werkbank",
        sequence=2,
        method=method,
        title="Kundenchat",
        start=start,
        end=start + timedelta(hours=1),
        location="Digitale Werkbank",
        organizer=Person("Digitale Werkbank", "werkbank@example.org"),
        attendees=(Person("Petra Schulte", "petra@example.org"),),
        stamp=datetime(2026, 3, 1, 8, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("zone", "year"),
    [
        ("Europe/Berlin", 2026),
        ("Europe/Berlin", 2031),
        ("Europe/London", 2027),
        ("America/New_York", 2026),
        ("America/Sao_Paulo", 2018),  # summer time that ended in 2019
        ("Australia/Sydney", 2026),  # southern summer: DAYLIGHT first
        ("Australia/Lord_Howe", 2026),  # a half-hour change
        ("Asia/Kolkata", 2026),  # no changes at all
    ],
)
def test_every_vtimezone_agrees_with_the_tz_database_at_every_instant(zone: str, year: int) -> None:
    text = (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{vtimezone(zone, year, year + 1)}"
    )
    text += "END:VCALENDAR\r\n"
    assert vtimezone_disagreements(text, year, year + 1) == []
    parsed = ICalendar.from_ical(text).walk("VTIMEZONE")[0].to_tz()
    for day in (date(year, 3, 29), date(year, 10, 25), date(year, 4, 5), date(year + 1, 3, 28)):
        for hour in range(24):
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            assert (
                moment.astimezone(parsed).utcoffset()
                == moment.astimezone(ZoneInfo(zone)).utcoffset()
            ), (zone, moment)


def test_the_check_catches_the_summer_time_that_started_one_hour_late() -> None:
    before = Timezone.from_tzid(
        "Europe/Berlin", first_date=date(2026, 1, 1), last_date=date(2028, 1, 1)
    )
    text = f"BEGIN:VCALENDAR\r\n{before.to_ical().decode()}END:VCALENDAR\r\n"
    problems = vtimezone_disagreements(text, 2026, 2027)
    assert any("2026-03-29T01:00" in problem for problem in problems)


def test_the_invite_on_the_day_summer_time_starts_passes_the_offset_check() -> None:
    ics = build_ics(spec(datetime(2026, 3, 29, 10, tzinfo=BERLIN)), locale="de")
    calendar = check_calendar_object(ics)
    start = calendar.walk("VEVENT")[0]["DTSTART"].dt
    assert start.astimezone(UTC) == datetime(2026, 3, 29, 8, tzinfo=UTC)


def test_a_cancellation_asks_for_no_answer() -> None:
    ics = only_invitation(CalendarMethod.CANCEL)
    event = check_calendar_object(ics).walk("VEVENT")[0]
    assert event["STATUS"] == "CANCELLED"
    attendee = event["ATTENDEE"]
    assert "RSVP" not in attendee.params
    assert "PARTSTAT" not in attendee.params
    description = str(event["DESCRIPTION"])
    assert "rsvp" not in description.lower()
    assert "Zusagen" not in description
    assert "booking.example" not in description
    request = check_calendar_object(only_invitation()).walk("VEVENT")[0]
    assert request["ATTENDEE"].params["RSVP"] == "TRUE"
    assert "https://booking.example/rsvp/abc" in str(request["DESCRIPTION"])

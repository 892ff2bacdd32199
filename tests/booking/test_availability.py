"""Availability, top-N options and link purposes: pure domain tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.booking.domain import rsvp
from services.booking.domain.availability import Availability, availability_from_doc
from services.booking.domain.calendar import (
    BERLIN,
    BusyIndex,
    MeetingType,
    Room,
    Venue,
    find_slots,
)

VENUE = Venue("werkbank", "Werkbank", "Dortmund", rooms=(Room("r1", "Werkraum 1"),))
KIND = MeetingType()
NOW = datetime(2027, 2, 1, 7, tzinfo=UTC)  # Monday 08:00 local; slots from Tuesday 09:00
PEOPLE = ["provider:p", "company:c"]


def local(moment: datetime) -> datetime:
    return moment.astimezone(BERLIN)


def test_a_provider_is_only_booked_within_their_weekly_hours() -> None:
    thursday_afternoons = Availability(weekly={3: ((time(14), time(16)),)})
    [(start, _)] = find_slots(VENUE, KIND, NOW, {}, PEOPLE, provider=thursday_afternoons)
    assert local(start) == datetime(2027, 2, 4, 14, tzinfo=BERLIN)


def test_a_day_off_is_skipped_and_extra_hours_open_a_day() -> None:
    hours = Availability(
        weekly={3: ((time(14), time(16)),)},
        dates_off=frozenset({date(2027, 2, 4)}),
        extra={date(2027, 2, 8): ((time(10), time(12)),)},
    )
    [(start, _)] = find_slots(VENUE, KIND, NOW, {}, PEOPLE, provider=hours)
    assert local(start) == datetime(2027, 2, 8, 10, tzinfo=BERLIN)


def test_company_windows_come_first_but_never_prevent_a_booking() -> None:
    mornings = Availability(weekly={4: ((time(9), time(11)),)})
    [(start, _)] = find_slots(VENUE, KIND, NOW, {}, PEOPLE, company=mornings)
    assert local(start) == datetime(2027, 2, 5, 9, tzinfo=BERLIN)
    never = Availability(weekly={5: ((time(9), time(11)),)})  # Saturdays: the venue is closed
    [(start, _)] = find_slots(VENUE, KIND, NOW, {}, PEOPLE, company=never)
    assert local(start) == datetime(2027, 2, 2, 9, tzinfo=BERLIN)


def test_three_options_fall_on_three_different_days_in_order() -> None:
    slots = find_slots(VENUE, KIND, NOW, {}, PEOPLE, count=3)
    days = [local(start).date() for start, _ in slots]
    assert days == [date(2027, 2, 2), date(2027, 2, 3), date(2027, 2, 4)]


def test_declined_spans_are_never_offered_again() -> None:
    first = datetime(2027, 2, 2, 9, tzinfo=BERLIN)
    [(start, _)] = find_slots(VENUE, KIND, NOW, {}, PEOPLE, avoid=[(first, first + KIND.duration)])
    assert local(start) == datetime(2027, 2, 2, 10, tzinfo=BERLIN)


def test_availability_reads_the_stored_shape_and_explains_a_refusal() -> None:
    hours = availability_from_doc(
        {
            "weekly": {"0": [["09:00", "12:00"]]},
            "dates_off": ["2027-02-08"],
            "extra": [{"date": "2027-02-06", "start": "10:00", "end": "11:00"}],
        }
    )
    monday = datetime(2027, 2, 1, 9, tzinfo=BERLIN)
    assert hours.covers(monday, monday + timedelta(hours=1))
    assert hours.why_not(monday + timedelta(hours=3), monday + timedelta(hours=4)) == (
        "outside the available hours on 2027-02-01 (09:00–12:00)"
    )
    assert "day off" in (
        hours.why_not(monday + timedelta(days=7), monday + timedelta(days=7)) or ""
    )
    saturday = datetime(2027, 2, 6, 10, tzinfo=BERLIN)
    assert hours.covers(saturday, saturday + timedelta(hours=1))


def test_a_link_signed_for_one_purpose_is_refused_for_another() -> None:
    expires = NOW + timedelta(days=1)
    feedback = rsvp.issue(b"k", "mtg-1", "c-1", expires, purpose=rsvp.FEEDBACK)
    assert rsvp.verify(b"k", feedback, NOW, purpose=rsvp.FEEDBACK).contact_id == "c-1"
    with pytest.raises(rsvp.InvalidTokenError, match="signature"):
        rsvp.verify(b"k", feedback, NOW)
    answer = rsvp.issue(b"k", "mtg-1", "c-1", expires)
    with pytest.raises(rsvp.InvalidTokenError, match="signature"):
        rsvp.verify(b"k", answer, NOW, purpose=rsvp.FEEDBACK)


def test_a_slot_needs_one_room_free_for_the_whole_span_even_when_no_instant_is_full() -> None:
    venue = Venue("w", "W", "Dortmund", rooms=(Room("r1", "1"), Room("r2", "2")))
    day = datetime(2027, 2, 2, 8, tzinfo=BERLIN)
    busy = {  # r1 busy early, r2 busy late: never both at once, yet neither fits 09:00 with buffers
        "room:r1": [(day, day + timedelta(minutes=75))],
        "room:r2": [(day + timedelta(minutes=100), day + timedelta(minutes=200))],
    }
    [(start, room)] = find_slots(venue, KIND, NOW, busy, PEOPLE)
    assert local(start) == datetime(2027, 2, 2, 9, 30, tzinfo=BERLIN)
    assert room is not None
    assert room.room_id == "r1"
    full = {f"room:{r}": [(day, day + timedelta(hours=12))] for r in ("r1", "r2")}
    [(start, _)] = find_slots(venue, KIND, NOW, full, PEOPLE)
    assert local(start).date() == date(2027, 2, 3)


def test_the_index_of_full_times_stays_exact_as_bookings_are_added() -> None:
    rooms = ("room:a", "room:b")
    day = datetime(2027, 3, 1, 9, tzinfo=BERLIN)
    hour = timedelta(hours=1)
    index = BusyIndex({"room:a": [(day, day + 2 * hour)]})
    full = index.everyone_busy(rooms)
    assert full.free("all", (day, day + hour)), "room b is still free"
    index.add("room:b", (day + hour, day + 3 * hour))
    assert not full.free("all", (day + hour, day + 2 * hour)), "both busy from 10 to 11"
    assert full.free("all", (day, day + hour))
    assert full.free("all", (day + 2 * hour, day + 3 * hour)), "room a is free again at 11"

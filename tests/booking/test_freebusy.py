"""A provider's busy times read from their own calendar (pure: iCalendar text in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.booking.domain.calendar import BERLIN, MeetingType, Venue, find_slots, overlaps
from services.booking.domain.freebusy import UnreadableCalendarError, busy_times

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 11, 30, tzinfo=UTC)


def calendar(*events: str) -> str:
    body = "".join(
        f"BEGIN:VEVENT\nDTSTAMP:20260101T000000Z\n{e.strip()}\nEND:VEVENT\n" for e in events
    )
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Test//Provider//DE\n{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n")


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc,arg-type]


WEEKLY_OVER_DST = """
UID:weekly@provider
DTSTART;TZID=Europe/Berlin:20260319T100000
DTEND;TZID=Europe/Berlin:20260319T110000
RRULE:FREQ=WEEKLY;COUNT=3
"""


def test_a_weekly_event_stays_at_ten_local_time_across_the_spring_dst_change() -> None:
    busy = busy_times([calendar(WEEKLY_OVER_DST)], SINCE, UNTIL)
    assert busy == [
        (berlin(2026, 3, 19, 10), berlin(2026, 3, 19, 11)),
        (berlin(2026, 3, 26, 10), berlin(2026, 3, 26, 11)),
        (berlin(2026, 4, 2, 10), berlin(2026, 4, 2, 11)),
    ]
    assert busy[0][0].hour == 9  # 09:00 UTC in winter time
    assert busy[2][0].hour == 8  # 08:00 UTC in summer time


def test_exdate_removes_an_occurrence_and_recurrence_id_moves_one() -> None:
    busy = busy_times(
        [
            calendar(
                WEEKLY_OVER_DST + "EXDATE;TZID=Europe/Berlin:20260326T100000",
                """
UID:weekly@provider
RECURRENCE-ID;TZID=Europe/Berlin:20260402T100000
DTSTART;TZID=Europe/Berlin:20260402T143000
DTEND;TZID=Europe/Berlin:20260402T153000
""",
            )
        ],
        SINCE,
        UNTIL,
    )
    assert busy == [
        (berlin(2026, 3, 19, 10), berlin(2026, 3, 19, 11)),
        (berlin(2026, 4, 2, 14, 30), berlin(2026, 4, 2, 15, 30)),
    ]


@pytest.mark.parametrize(
    ("day", "hours"),
    [("20260329", 23), ("20261025", 25), ("20260330", 24)],
    ids=["spring-dst-sunday", "autumn-dst-sunday", "ordinary-monday"],
)
def test_an_all_day_event_runs_from_midnight_to_midnight_in_berlin(day: str, hours: int) -> None:
    text = calendar(f"UID:day@provider\nDTSTART;VALUE=DATE:{day}")  # no DTEND: one day
    [(start, end)] = busy_times([text], SINCE, UNTIL)
    assert start.astimezone(BERLIN).hour == 0
    assert end - start == timedelta(hours=hours)


def test_transparent_cancelled_and_werkbanks_own_events_leave_the_provider_free() -> None:
    text = calendar(
        "UID:free@provider\nDTSTART:20260505T080000Z\nDTEND:20260505T090000Z\nTRANSP:TRANSPARENT",
        "UID:off@provider\nDTSTART:20260506T080000Z\nDTEND:20260506T090000Z\nSTATUS:CANCELLED",
        "UID:mtg-1@werkbank\nDTSTART:20260507T080000Z\nDTEND:20260507T090000Z",
        "UID:busy@provider\nDTSTART:20260508T080000Z\nDTEND:20260508T090000Z\nTRANSP:OPAQUE",
    )
    assert busy_times([text], SINCE, UNTIL) == [
        (datetime(2026, 5, 8, 8, tzinfo=UTC), datetime(2026, 5, 8, 9, tzinfo=UTC))
    ]


def test_floating_times_are_berlin_time_and_overlapping_events_merge() -> None:
    text = calendar(
        "UID:a@provider\nDTSTART:20260601T090000\nDTEND:20260601T100000",
        "UID:b@provider\nDTSTART;TZID=Europe/Berlin:20260601T093000\nDURATION:PT1H",
    )
    assert busy_times([text], SINCE, UNTIL) == [(berlin(2026, 6, 1, 9), berlin(2026, 6, 1, 10, 30))]


@pytest.mark.parametrize(
    "text",
    ["", "not a calendar", "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", "BEGIN:VCALENDAR\r\n"],
    ids=["empty", "text", "bare-event", "unterminated"],
)
def test_a_malformed_calendar_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(UnreadableCalendarError):
        busy_times([text], SINCE, UNTIL)


def test_the_slot_search_never_offers_a_time_the_provider_is_busy() -> None:
    """Busy every weekday morning except on one day; the first slot must avoid all of it."""
    mornings = calendar(
        """
UID:mornings@provider
DTSTART;TZID=Europe/Berlin:20260302T080000
DTEND;TZID=Europe/Berlin:20260302T130000
RRULE:FREQ=DAILY;COUNT=60
"""
    )
    busy = busy_times([mornings], SINCE, UNTIL)
    venue = Venue("v", "Werkbank", "Königswall 21")
    kind = MeetingType()
    now = berlin(2026, 3, 2, 7)
    slots = find_slots(venue, kind, now, {"provider:p": busy}, ["provider:p"], count=5)
    assert len(slots) == 5
    for start, _ in slots:
        span = (start - kind.buffer_before, start + kind.duration + kind.buffer_after)
        assert not any(overlaps(span, block) for block in busy)
        assert start.astimezone(BERLIN).hour >= 13

"""Independent checks of the calendar objects Werkbank sends: three parsers and the offsets.

``vtimezone_disagreements`` reads each VTIMEZONE by RFC 5545 alone (an onset is DTSTART, and
each RDATE or RRULE instance, read in TZOFFSETFROM) and compares the offset it gives with the
tz database at every hour of the years it covers and a second either side of every change.
"""
# mypy: disable-error-code="union-attr, arg-type, no-untyped-call, attr-defined, call-arg, operator"

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import vobject
from dateutil.rrule import rrulestr
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar, Timezone

from services.booking.domain.timezones import transitions


def parse_everywhere(ics: str) -> Calendar:
    """Parse with icalendar, ical and vobject (which also validates); the icalendar result."""
    calendar = Calendar.from_ical(ics)
    IcsCalendarStream.calendar_from_ics(ics)
    parsed = vobject.readOne(ics, validate=True)
    assert parsed.name == "VCALENDAR"
    return calendar


def _onsets(zone: Timezone, until: datetime) -> list[tuple[datetime, timedelta]]:
    onsets = []
    for part in zone.subcomponents:
        local = part["DTSTART"].dt.replace(tzinfo=None)
        before = part["TZOFFSETFROM"].td
        after = part["TZOFFSETTO"].td
        locals_ = [local]
        for rdate in (
            part.get("RDATE", [])
            if isinstance(part.get("RDATE"), list)
            else ([part["RDATE"]] if "RDATE" in part else [])
        ):
            locals_ += [d.dt.replace(tzinfo=None) for d in rdate.dts]
        if "RRULE" in part:
            rule = rrulestr(part["RRULE"].to_ical().decode(), dtstart=local)
            locals_ += list(rule.between(local, until.replace(tzinfo=None), inc=False))
        onsets += [((moment - before).replace(tzinfo=UTC), after) for moment in locals_]
    return sorted(onsets)


def vtimezone_disagreements(ics: str, first_year: int, last_year: int) -> list[str]:
    """Instants in [first_year, last_year] where a VTIMEZONE and the tz database disagree."""
    problems = []
    for zone in Calendar.from_ical(ics).walk("VTIMEZONE"):
        tzid = str(zone["TZID"])
        database = ZoneInfo(tzid)
        start = datetime(first_year, 1, 1, tzinfo=database).astimezone(UTC)
        end = datetime(last_year + 1, 1, 1, tzinfo=database).astimezone(UTC)
        onsets = _onsets(zone, end)
        hours = int((end - start).total_seconds() // 3600)
        moments = [start + timedelta(hours=hour) for hour in range(hours)]
        for change in transitions(database, first_year, last_year):
            moments += [change.at - timedelta(seconds=1), change.at]
        for moment in moments:
            index = bisect_right([at for at, _ in onsets], moment) - 1
            if index < 0:
                problems.append(f"{tzid}: no onset before {moment.isoformat()}")
                continue
            expected = moment.astimezone(database).utcoffset()
            if onsets[index][1] != expected:
                problems.append(
                    f"{tzid} at {moment.isoformat()}: {onsets[index][1]} instead of {expected}"
                )
    return problems


def covered_years(ics: str) -> tuple[int, int]:
    """The years the first VTIMEZONE covers: from its first onset to the end of the next year."""
    zone = Calendar.from_ical(ics).walk("VTIMEZONE")[0]
    first = min(part["DTSTART"].dt.year for part in zone.subcomponents)
    return first, first + 1


def check_calendar_object(ics: str) -> Calendar:
    """Everything the issue asks of each calendar object Werkbank sends."""
    calendar = parse_everywhere(ics)
    problems = vtimezone_disagreements(ics, *covered_years(ics)) if "VTIMEZONE" in ics else []
    assert not problems, problems[:5]
    return calendar

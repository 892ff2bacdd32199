"""A provider's busy times from their own calendar (iCalendar text). Pure.

Recurrences are expanded (RRULE, RDATE, EXDATE, RECURRENCE-ID exceptions) by
``recurring-ical-events``. Events marked ``TRANSP:TRANSPARENT`` or cancelled leave the provider
free; all-day events and floating times are read in Europe/Berlin, so an all-day event on a DST
day is 23 or 25 hours long. Werkbank's own meetings (written into the calendar on request) are
skipped: booking knows them already.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

import recurring_ical_events
from icalendar import Calendar

from services.booking.domain.calendar import BERLIN, Interval, merged

OWN_UID_SUFFIX = "@werkbank"
MAX_BUSY = 10_000  # busy intervals kept per calendar; a bigger one is refused, not cut


class UnreadableCalendarError(ValueError):
    """The calendar text cannot be read; the message says why (for staff, no content)."""


def busy_times(texts: Iterable[bytes | str], since: datetime, until: datetime) -> list[Interval]:
    """The merged busy intervals (UTC) within [since, until) of one or more VCALENDARs."""
    spans: list[Interval] = []
    for text in texts:
        spans.extend(_busy_in(_parsed(text), since, until))
        if len(spans) > MAX_BUSY:
            raise UnreadableCalendarError(f"more than {MAX_BUSY} busy times")
    return merged(spans)


def _parsed(text: bytes | str) -> Calendar:
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise UnreadableCalendarError(f"not iCalendar ({type(exc).__name__})") from exc
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise UnreadableCalendarError("not a VCALENDAR")
    return calendar


def _busy_in(calendar: Calendar, since: datetime, until: datetime) -> Iterable[Interval]:
    try:
        events = recurring_ical_events.of(calendar, skip_bad_series=True).between(since, until)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnreadableCalendarError(f"unreadable events ({type(exc).__name__})") from exc
    for event in events:
        if not _blocks(event):
            continue
        try:
            start, end = _moment(event.start), _moment(event.end)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UnreadableCalendarError(f"unreadable time ({type(exc).__name__})") from exc
        start, end = max(start, since), min(end, until)
        if start < end:
            yield start, end


def _blocks(event: Mapping[str, Any]) -> bool:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    return not str(event.get("UID", "")).endswith(OWN_UID_SUFFIX)


def _moment(value: date | datetime) -> datetime:
    """UTC; a date is midnight in Berlin, a floating time is Berlin local time."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0), tzinfo=BERLIN)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=BERLIN)
    return value.astimezone(UTC)

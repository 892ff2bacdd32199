"""Reports for funders: filters, periods, the figures' arithmetic and the neutrality measures.

Pure: the SQL counts arrive as plain numbers and lists, and this module turns them into tables.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
SIZE_CLASSES = ("micro", "small", "medium", "large", "unknown")
CHANNELS = ("email", "sms")
OUTCOMES = ("project_started", "in_progress", "no_follow_up")
DIMENSIONS = ("sector", "district", "size_class", "category")
# The URL's German names of the filters, and the read model's column for each.
FILTER_PARAMS = {
    "branche": "sector",
    "bezirk": "district",
    "groesse": "size_class",
    "kategorie": "category",
    "kanal": "channel",
}


def size_class(employees: int | None) -> str:
    """The EU size classes by head count (turnover is not known here)."""
    if employees is None:
        return "unknown"
    if employees < 10:
        return "micro"
    if employees < 50:
        return "small"
    if employees < 250:
        return "medium"
    return "large"


@dataclass(frozen=True)
class Period:
    """Whole days in Berlin: ``start`` inclusive, ``end`` exclusive."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), BERLIN)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), BERLIN)


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def previous_month(today: date) -> Period:
    return month_of(today.replace(day=1) - timedelta(days=1))


def default_period(today: date) -> Period:
    """This month and the eleven before it, up to today."""
    months = today.year * 12 + today.month - 1 - 11
    return Period(date(months // 12, months % 12 + 1, 1), today)


def parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class ReportFilters:
    period: Period
    sector: str = ""
    district: str = ""
    size_class: str = ""
    category: str = ""
    channel: str = ""

    def dimension(self, name: str) -> str:
        value: str = getattr(self, name)
        return value

    def query(self) -> dict[str, str]:
        """The filters as the page's URL parameters (German names, empty ones left out)."""
        params = {"von": self.period.first.isoformat(), "bis": self.period.last.isoformat()}
        for param, name in FILTER_PARAMS.items():
            if self.dimension(name):
                params[param] = self.dimension(name)
        return params

    def for_month(self, period: Period) -> ReportFilters:
        return replace(self, period=period)


class FilterError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def read_filters(params: Mapping[str, str], today: date) -> ReportFilters:
    """The filters from the URL; an unreadable or reversed period names its field."""
    fallback = default_period(today)
    first = parse_day(params.get("von", ""))
    last = parse_day(params.get("bis", ""))
    if params.get("von") and first is None:
        raise FilterError("von", "Das Datum „von“ ist kein Datum (JJJJ-MM-TT).")
    if params.get("bis") and last is None:
        raise FilterError("bis", "Das Datum „bis“ ist kein Datum (JJJJ-MM-TT).")
    period = Period(first or fallback.first, last or fallback.last)
    if period.last < period.first:
        raise FilterError("bis", "Das Ende des Zeitraums liegt vor seinem Anfang.")
    if params.get("groesse") and params["groesse"] not in SIZE_CLASSES:
        raise FilterError("groesse", "Unbekannte Größenklasse.")
    if params.get("kanal") and params["kanal"] not in CHANNELS:
        raise FilterError("kanal", "Unbekannter Kanal.")
    values = {name: params.get(param, "").strip() for param, name in FILTER_PARAMS.items()}
    return ReportFilters(period=period, **values)


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (as numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def gini(counts: Iterable[float]) -> float | None:
    """0 when everyone got the same, towards 1 when one got everything; None without data."""
    values = sorted(counts)
    total = sum(values)
    n = len(values)
    if n == 0 or total == 0:
        return None
    weighted = sum((index + 1) * value for index, value in enumerate(values))
    return (2 * weighted) / (n * total) - (n + 1) / n


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class TiedProposal:
    proposal_id: str
    rank: int
    band: str | None


def firsts_among_tied(proposals: Iterable[TiedProposal]) -> set[str]:
    """The proposal that came first in each tie band of one run (the band's lowest rank)."""
    best: dict[str, TiedProposal] = {}
    for p in proposals:
        if p.band is None:
            continue
        if p.band not in best or p.rank < best[p.band].rank:
            best[p.band] = p
    return {p.proposal_id for p in best.values()}


@dataclass(frozen=True)
class Table:
    """One table of the report: the page, CSV, XLSX and PDF all render it."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[object, ...]] = field(default_factory=list)


def days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 86400, 1)


def durations_table(title: str, spans: Mapping[str, Sequence[float]]) -> Table:
    """Median and p90 of each span (seconds), in days."""
    rows: list[tuple[object, ...]] = [
        (label, len(values), days(quantile(values, 0.5)), days(quantile(values, 0.9)))
        for label, values in spans.items()
    ]
    return Table("durations", title, ("Zeitspanne", "Anzahl", "Median (Tage)", "p90 (Tage)"), rows)


def bar_chart(
    rows: Sequence[tuple[str, float]], *, width: int = 560, bar_height: int = 22
) -> dict[str, object]:
    """Geometry of a horizontal bar chart (label, value), for an inline SVG."""
    label_width = 200
    biggest = max((value for _, value in rows), default=0) or 1
    usable = width - label_width - 60
    bars = [
        {
            "label": label,
            "value": value,
            "y": index * (bar_height + 8),
            "width": round(usable * value / biggest, 1),
        }
        for index, (label, value) in enumerate(rows)
    ]
    return {
        "bars": bars,
        "width": width,
        "height": max(1, len(bars)) * (bar_height + 8),
        "bar_height": bar_height,
        "label_width": label_width,
    }

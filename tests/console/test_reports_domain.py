"""The reports' pure parts: periods and filters, percentiles, Gini, ties, tables and exports."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from services.console.domain import report_tables as t
from services.console.domain.report_exports import to_csv, to_xlsx
from services.console.domain.reports import (
    FilterError,
    Period,
    Table,
    TiedProposal,
    bar_chart,
    firsts_among_tied,
    gini,
    month_of,
    previous_month,
    quantile,
    read_filters,
    size_class,
)

TODAY = date(2026, 12, 2)


def test_a_period_runs_over_whole_berlin_days_and_months_end_on_their_last_day() -> None:
    november = month_of(date(2026, 11, 17))
    assert (november.first, november.last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert previous_month(TODAY) == november
    assert november.start.isoformat() == "2026-11-01T00:00:00+01:00"
    assert november.end.isoformat() == "2026-12-01T00:00:00+01:00"
    assert month_of(date(2024, 2, 10)).last == date(2024, 2, 29)


def test_filters_come_from_the_url_and_go_back_into_it() -> None:
    f = read_filters({"von": "2026-01-01", "bis": "2026-03-31", "kanal": "sms"}, TODAY)
    assert f.period == Period(date(2026, 1, 1), date(2026, 3, 31))
    assert f.channel == "sms"
    assert f.query() == {"von": "2026-01-01", "bis": "2026-03-31", "kanal": "sms"}
    default = read_filters({}, TODAY)
    assert default.period.last == TODAY
    assert default.period.first == date(2026, 1, 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"von": "gestern"}, "von"),
        ({"bis": "2026-13-01"}, "bis"),
        ({"von": "2026-05-01", "bis": "2026-04-01"}, "bis"),
        ({"groesse": "riesig"}, "groesse"),
        ({"kanal": "fax"}, "kanal"),
    ],
)
def test_an_unreadable_filter_names_its_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(FilterError) as caught:
        read_filters(params, TODAY)
    assert caught.value.field == field


def test_size_classes_follow_the_eu_head_counts() -> None:
    assert [size_class(n) for n in (None, 3, 10, 49, 50, 249, 250)] == [
        "unknown",
        "micro",
        "small",
        "small",
        "medium",
        "medium",
        "large",
    ]


def test_median_and_p90_interpolate_between_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert quantile(values, 0.5) == pytest.approx(5.5)
    assert quantile(values, 0.9) == pytest.approx(9.1)
    assert quantile([], 0.5) is None


def test_gini_is_zero_for_equal_shares_and_grows_with_concentration() -> None:
    assert gini([5, 5, 5, 5]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 12]) == pytest.approx(0.75)
    assert gini([1, 2, 3]) == pytest.approx(2 / 9)
    assert gini([]) is None
    assert gini([0, 0]) is None


def test_the_first_of_each_tie_band_is_its_lowest_rank() -> None:
    proposals = [
        TiedProposal("a", 1, None),
        TiedProposal("b", 3, "x|y"),
        TiedProposal("c", 2, "x|y"),
        TiedProposal("d", 4, "p|q"),
        TiedProposal("e", 5, "p|q"),
    ]
    assert firsts_among_tied(proposals) == {"c", "d"}


def test_fairness_counts_idle_providers_as_zero_exposure_and_only_tied_ones_for_firsts() -> None:
    rows = [
        {"provider_id": "p1", "proposed": 4, "tied": 2, "first_tied": 2},
        {"provider_id": "p2", "proposed": 4, "tied": 2, "first_tied": 0},
        {"provider_id": "p3", "proposed": 4, "tied": 0, "first_tied": 0},
    ]
    shares = t.fairness(rows, idle=1)
    assert shares["exposure"] == pytest.approx(gini([4, 4, 4, 0]))
    assert shares["first_tied"] == pytest.approx(gini([2, 0]))


def test_the_public_table_aggregates_per_category_without_provider_names() -> None:
    rows = [
        {
            "provider_id": "p1",
            "name": "Alpha IT",
            "category": "market.shop",
            "proposed": 3,
            "tied": 1,
            "first_tied": 1,
        },
        {
            "provider_id": "p2",
            "name": "Beta IT",
            "category": "market.shop",
            "proposed": 1,
            "tied": 1,
            "first_tied": 0,
        },
    ]
    table = t.public_table(rows)
    assert table.rows == [("market.shop", 2, 4, 2, pytest.approx(0.25), pytest.approx(0.5))]
    assert "Alpha IT" not in repr(table.rows)


def test_summary_and_attendance_rate_come_from_the_grouped_rows() -> None:
    needs = [
        {"grp": "a", "received": 3, "matched": 2, "met": 1, "closed": 1},
        {"grp": "b", "received": 1, "matched": 1, "met": 1, "closed": 0},
    ]
    meetings = [{"grp": "a", "total": 4, "held": 3, "declined": 1, "cancelled": 0, "no_show": 1}]
    deliveries = [{"channel": "email", "sent": 7, "failed": 1, "pending": 0}]
    summary = t.summarize(needs, meetings, deliveries)
    assert (summary.received, summary.matched, summary.met, summary.closed) == (4, 3, 2, 1)
    assert summary.attendance == pytest.approx(0.75)
    assert t.meetings_table(meetings, "category").rows[0][-1] == "75.0 %"
    assert t.needs_table(needs, "size_class").columns[0] == "Größenklasse"


def test_spans_are_reported_in_days() -> None:
    row = {
        "n_proposal": 2,
        "proposal": [86400.0, 172800.0],
        "n_meeting": 0,
        "meeting": None,
        "n_outcome": 0,
        "outcome": None,
    }
    table = t.spans_table(row)
    assert table.rows[0] == ("Bedarf bis Vorschlag", 2, 1.0, 2.0)
    assert table.rows[1] == ("Bedarf bis Termin", 0, None, None)


def test_csv_and_xlsx_carry_every_row_and_defuse_formulas() -> None:
    table = Table("x", "Zustellungen", ("Kanal", "Zugestellt"), [("=HYPERLINK()", 3), ("SMS", 1)])
    text = to_csv(table)
    assert text.splitlines() == ["Kanal;Zugestellt", "'=HYPERLINK();3", "SMS;1"]
    book = load_workbook(io.BytesIO(to_xlsx([table, table])))
    assert book.sheetnames == ["Zustellungen", "Zustellungen 2"]
    assert list(book["Zustellungen"].iter_rows(values_only=True)) == [
        ("Kanal", "Zugestellt"),
        ("'=HYPERLINK()", 3),
        ("SMS", 1),
    ]


def test_bar_lengths_are_proportional_to_the_values() -> None:
    chart = bar_chart([("a", 10), ("b", 5), ("c", 0)])
    bars = chart["bars"]
    assert isinstance(bars, list)
    widths = [bar["width"] for bar in bars]
    assert widths[0] == 2 * widths[1]
    assert widths[2] == 0

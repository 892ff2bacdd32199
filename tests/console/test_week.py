"""The week view's pure parts: which week a URL names and where each meeting lands."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.console.domain.week import Week, grid, week_of
from services.console.web.render import BERLIN


def test_a_url_names_an_iso_week_and_an_unreadable_one_means_this_week() -> None:
    today = date(2026, 12, 2)  # a Wednesday
    assert week_of("2026-W53", today).monday == date(2026, 12, 28)
    assert week_of("2027-W01", today).monday == date(2027, 1, 4)
    assert week_of("quatsch", today).monday == date(2026, 11, 30)
    assert week_of(None, today).label == "2026-W49"
    assert week_of("2026-W53", today).next().label == "2027-W01"
    assert week_of("2027-W01", today).previous().label == "2026-W53"


def test_meetings_land_in_their_berlin_hour_and_the_weekend_shows_only_when_used() -> None:
    week = Week(date(2027, 3, 22))  # DST starts on Sunday 28 March
    monday_nine = {"meeting_id": "a", "starts_at": datetime(2027, 3, 22, 8, 0, tzinfo=UTC)}
    sunday_noon = {"meeting_id": "b", "starts_at": datetime(2027, 3, 28, 10, 0, tzinfo=UTC)}
    days, rows = grid(week, [monday_nine], BERLIN)
    assert [d.weekday() for d in days] == [0, 1, 2, 3, 4]
    nine = next(r for r in rows if r.hour == 9)
    assert nine.cells[0] == [monday_nine]
    assert all(not cell for row in rows if row.hour != 9 for cell in row.cells)
    days, rows = grid(week, [monday_nine, sunday_noon], BERLIN)
    assert days[-1] == date(2027, 3, 28)
    assert next(r for r in rows if r.hour == 12).cells[-1] == [sunday_noon]  # 10:00 UTC in CEST


def test_the_grid_widens_for_an_early_meeting() -> None:
    early = {"meeting_id": "c", "starts_at": datetime(2027, 3, 23, 6, 0, tzinfo=UTC)}
    _, rows = grid(Week(date(2027, 3, 22)), [early], BERLIN)
    assert rows[0].hour == 7
    assert rows[0].cells[1] == [early]

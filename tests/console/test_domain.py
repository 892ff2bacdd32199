"""The console's pure parts: API errors in German, keyset cursors, explanations, sheets."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from services.console.domain.explain import bars, tied_ranks
from services.console.domain.freshness import Freshness
from services.console.domain.paging import decode_cursor, encode_cursor
from services.console.domain.problems import problem_from
from services.console.domain.sheets import UnreadableSheetError, looks_like_xlsx, xlsx_to_csv

BERLIN = ZoneInfo("Europe/Berlin")


def test_fastapi_validation_errors_become_german_messages_per_field() -> None:
    body = {
        "detail": [
            {"loc": ["body", "postcode"], "type": "string_pattern_mismatch", "msg": "x"},
            {"loc": ["body", "contacts", 0, "name"], "type": "missing", "msg": "Field required"},
        ]
    }
    problem = problem_from(422, body)
    assert problem.fields == {
        "postcode": "Das Format stimmt nicht.",
        "contacts.0.name": "Bitte ausfüllen.",
    }
    assert problem.message == "Bitte prüfen Sie die markierten Angaben."


def test_a_field_and_message_detail_and_import_rows_are_read_too() -> None:
    assert problem_from(422, {"detail": {"field": "start", "message": "taken"}}).fields == {
        "start": "Ungültige Angabe (taken)"
    }
    rows = problem_from(
        422, {"detail": {"errors": [{"row": 2, "field": "postcode", "message": "bad"}]}}
    ).rows
    assert rows == [{"row": 2, "field": "postcode", "message": "Ungültige Angabe (bad)"}]


def test_a_conflict_is_a_german_sentence_without_fields() -> None:
    problem = problem_from(409, {"detail": "proposal already decided"})
    assert problem.fields == {}
    assert "inzwischen geändert" in problem.message


def test_a_cursor_round_trips_and_a_broken_one_means_the_first_page() -> None:
    cursor = decode_cursor(encode_cursor("2026-12-01T10:00:00+00:00", "need-7"))
    assert cursor is not None
    assert (cursor.value, cursor.row_id) == ("2026-12-01T10:00:00+00:00", "need-7")
    assert decode_cursor("not-base64-json!") is None
    assert decode_cursor("") is None


def test_bars_put_the_weightiest_contribution_first_in_the_chosen_language() -> None:
    breakdown = [
        {
            "criterion": "distance",
            "value": 0.5,
            "contribution": 0.05,
            "weight": 0.1,
            "reason_de": "nah",
            "reason_en": "near",
        },
        {
            "criterion": "taxonomy",
            "value": 1.0,
            "contribution": 0.4,
            "weight": 0.4,
            "reason_de": "passt genau",
            "reason_en": "exact fit",
        },
    ]
    shown = bars(breakdown, "en")
    assert [b.criterion for b in shown] == ["taxonomy", "distance"]
    assert shown[0].reason == "exact fit"
    assert shown[1].percent == 50


def test_equal_scores_are_ties_and_different_ones_are_not() -> None:
    assert tied_ranks([(1, 0.8), (2, 0.8), (3, 0.5)]) == {1, 2}
    assert tied_ranks([(1, 0.8), (2, 0.7)]) == set()


def test_the_read_model_is_behind_only_while_events_wait() -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    freshness = Freshness()
    freshness.applied("console-on-booking", now - timedelta(seconds=12))
    freshness.backlog("console-on-booking", 0, 0.0)
    assert not freshness.stale(now, 5)
    freshness.backlog("console-on-booking", 40, 0.0)
    assert freshness.stale(now, 5)
    assert freshness.behind_seconds(now) == pytest.approx(12)


def test_an_xlsx_sheet_becomes_the_csv_the_import_reads() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["company_id", "name", "postcode"])
    sheet.append(["kmu-1", "Bäckerei Süß", 44135])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    assert looks_like_xlsx("liste.xlsx", data)
    assert xlsx_to_csv(data) == "company_id,name,postcode\nkmu-1,Bäckerei Süß,44135\n"
    with pytest.raises(UnreadableSheetError):
        xlsx_to_csv(b"PK\x03\x04 not really a workbook")


def test_rfc_9457_field_errors_without_a_type_are_recognised_by_their_message() -> None:
    body = {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "errors": [
            {
                "field": "postcode",
                "loc": ["body", "postcode"],
                "message": "String should match pattern '^\\\\d{5}$'",
            },
            {"field": "name", "loc": ["body", "name"], "message": "Field required"},
        ],
    }
    problem = problem_from(422, body)
    assert problem.fields == {"postcode": "Das Format stimmt nicht.", "name": "Bitte ausfüllen."}


def test_every_service_serves_swagger_ui_from_its_own_files() -> None:
    from fastapi.testclient import TestClient

    from shared.http import create_http_app

    client = TestClient(create_http_app("Werkbank test", [], {}))
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200

"""Spreadsheets staff upload: XLSX becomes the CSV that matching's import reads."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from openpyxl import load_workbook

MAX_ROWS = 50_000


class UnreadableSheetError(ValueError):
    pass


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_to_csv(data: bytes) -> str:
    """The first sheet as CSV (first row: the column names)."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        msg = "Die Datei ist keine lesbare XLSX-Datei."
        raise UnreadableSheetError(msg) from exc
    sheet = workbook.worksheets[0]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for number, row in enumerate(sheet.iter_rows(values_only=True)):
        if number > MAX_ROWS:
            msg = f"Höchstens {MAX_ROWS} Zeilen je Datei."
            raise UnreadableSheetError(msg)
        if any(cell is not None for cell in row):
            writer.writerow([_cell(cell) for cell in row])
    workbook.close()
    return out.getvalue()


def looks_like_xlsx(filename: str, data: bytes) -> bool:
    return filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04"

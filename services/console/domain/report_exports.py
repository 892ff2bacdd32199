"""The report's tables as CSV (one table) and XLSX (one sheet per table)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable

from openpyxl import Workbook
from openpyxl.styles import Font

from services.console.domain.reports import Table

Translate = Callable[[str], str]


def _same(text: str) -> str:
    return text


def _cell(value: object) -> object:
    """Spreadsheet programs run a cell that starts with = + - @ as a formula: quote it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def to_csv(table: Table, translate: Translate = _same) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([translate(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _sheet_title(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title)[:28] or "Tabelle"
    name, number = base, 2
    while name in used:
        name, number = f"{base} {number}", number + 1
    used.add(name)
    return name


def to_xlsx(tables: Iterable[Table], translate: Translate = _same) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(translate(table.title), used))
        sheet.append([translate(c) for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

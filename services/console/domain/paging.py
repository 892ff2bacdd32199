"""Keyset pagination: a page ends with a cursor (the last row's sort value and id), never an
OFFSET, so that page 400 costs what page 1 costs."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sort:
    """A sort the URL may ask for: its SQL expression (whitelisted) and direction."""

    key: str
    expression: str
    descending: bool


@dataclass(frozen=True)
class Cursor:
    value: Any
    row_id: str


def encode_cursor(value: Any, row_id: str) -> str:
    raw = json.dumps([value, row_id], default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str | None) -> Cursor | None:
    """None for a missing or unreadable cursor (the first page), never an error."""
    if not text:
        return None
    try:
        padded = text + "=" * (-len(text) % 4)
        value, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        return None
    return Cursor(value, str(row_id))


def choose_sort(sorts: dict[str, Sort], asked: str | None, default: str) -> Sort:
    return sorts.get(asked or "", sorts[default])


def keyset_clause(sort: Sort, id_column: str, position: int, cast: str = "") -> str:
    """The WHERE part that starts after the cursor; parameters ``$position`` and the next."""
    operator = "<" if sort.descending else ">"
    # The cursor carries the value as text: cast from text, or asyncpg wants a typed value.
    value = f"${position}::text{cast}" if cast else f"${position}"
    return f"({sort.expression}, {id_column}) {operator} ({value}, ${position + 1})"


def order_clause(sort: Sort, id_column: str) -> str:
    direction = "DESC" if sort.descending else "ASC"
    return f"ORDER BY {sort.expression} {direction}, {id_column} {direction}"

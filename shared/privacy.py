"""Erasing a person from a service's own schema (GDPR Art. 17), without knowing its tables.

Each service calls :func:`erase_from_schema` in its erasure handler. It works in two passes
over every text, JSON and bytea column of the service's schema, so a table added later is
covered without anyone remembering to list it:

1. *find*: every JSON object that names one of the contacts (``contact_id``) or organisations
   (``party_id``, ``company_id``, ``provider_id``) gives up its name, email address and phone
   number; these are the person's *terms*, together with any the service adds itself;
2. *scrub*: every value that mentions a term, or an object naming one of the ids, is rewritten:
   the object's personal fields are replaced, every occurrence of a term is replaced by a
   marker. iCalendar text folds long lines (RFC 5545 3.1), so folds are undone before searching.

The marker carries the request id and the term's number (never the term), so that rows that
were unique by address stay unique. Counts, ids and times stay: statistics keep their meaning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

ERASED = "[gelöscht]"
PERSONAL_FIELDS = ("name", "email", "phone", "recipient", "comment", "contact_name")
PARTY_FIELDS = ("name", "party_name", "company_name", "provider_name")
CONTACT_KEYS = ("contact_id",)
PARTY_KEYS = ("party_id", "company_id", "provider_id")
# A line fold of iCalendar, raw or inside JSON strings (escaped once per level of nesting).
FOLD = r"(\r\n|\\+r\\+n)[ \t]"
_FOLD = re.compile(FOLD)
_COLUMNS = """
SELECT table_name, column_name, data_type
FROM information_schema.columns c
WHERE table_schema = $1 AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea')
  AND EXISTS (SELECT 1 FROM information_schema.tables t
              WHERE t.table_schema = c.table_schema AND t.table_name = c.table_name
                AND t.table_type = 'BASE TABLE')
ORDER BY table_name, ordinal_position
"""
MIN_TERM_LENGTH = 3


@dataclass
class ErasureSubject:
    """Who is erased in one request: ids from the request, terms found in the schema."""

    request_id: str
    contact_ids: frozenset[str]
    party_ids: frozenset[str] = frozenset()
    terms: set[str] = field(default_factory=set)

    @property
    def ids(self) -> frozenset[str]:
        return self.contact_ids | self.party_ids

    def add_terms(self, values: Iterable[object]) -> None:
        for value in values:
            if isinstance(value, str) and _is_term(value.strip()):
                self.terms.add(value.strip())

    def ordered_terms(self) -> list[str]:
        return sorted(self.terms, key=lambda t: (-len(t), t))

    def search_values(self) -> list[str]:
        """What a row must contain (after unfolding) to be looked at: a term or an id."""
        values = {*self.terms, *(t.lower() for t in self.terms), *self.ids}
        return sorted(v for v in values if v)


def _is_term(value: str) -> bool:
    return len(value) >= MIN_TERM_LENGTH and not value.startswith("[gelöscht")


@dataclass(frozen=True)
class Scrubber:
    subject: ErasureSubject
    pattern: re.Pattern[str] | None
    markers: dict[str, str]

    @classmethod
    def of(cls, subject: ErasureSubject) -> Scrubber:
        terms = subject.ordered_terms()
        markers = {t.lower(): f"[gelöscht {subject.request_id}:{n}]" for n, t in enumerate(terms)}
        pattern = term_pattern(terms)
        return cls(subject, pattern, markers)

    def text(self, value: str) -> str:
        if self.pattern is None:
            return value
        unfolded = _FOLD.sub("", value)
        if not self.pattern.search(unfolded):
            return value
        return self.pattern.sub(lambda m: self.markers[m.group(0).lower()], unfolded)

    def json(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self._object(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _object(self, value: dict[str, Any]) -> dict[str, Any]:
        scrubbed = {key: self.json(item) for key, item in value.items()}
        if any(scrubbed.get(key) in self.subject.contact_ids for key in CONTACT_KEYS):
            for key in PERSONAL_FIELDS:
                if isinstance(scrubbed.get(key), str):
                    scrubbed[key] = "" if key == "comment" else ERASED
            for key in ("email", "phone"):
                if key in scrubbed:
                    scrubbed[key] = None
        if any(scrubbed.get(key) in self.subject.party_ids for key in PARTY_KEYS):
            for key in PARTY_FIELDS:
                if isinstance(scrubbed.get(key), str):
                    scrubbed[key] = ERASED
        return scrubbed

    def value(self, value: Any, data_type: str) -> Any:
        """A column's value, scrubbed; the same object when nothing in it names the person."""
        if value is None:
            return None
        if data_type == "bytea":
            try:
                text = bytes(value).decode("utf-8")
            except UnicodeDecodeError:  # a binary document (a PDF): not text, left as it is
                return value
            return self._document(text).encode()
        if data_type in ("json", "jsonb"):
            return json.dumps(self.json(json.loads(value)), ensure_ascii=False)
        return self._document(value)

    def _document(self, text: str) -> str:
        """A text that may hold a JSON document (an event body): scrubbed as one if it does."""
        stripped = text.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                document = json.loads(text)
            except ValueError:
                return self.text(text)
            return json.dumps(self.json(document), ensure_ascii=False)
        return self.text(text)


def term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """Any of the terms as a whole word (so that "Max" leaves "Maximilian" alone), any case."""
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=lambda t: (-len(t), t)))
    if not alternatives:
        return None
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def unfolded(text: str) -> str:
    return _FOLD.sub("", text)


def terms_in(value: Any, subject: ErasureSubject) -> list[str]:
    """Names, addresses and numbers of the subject's contacts and organisations in ``value``."""
    found: list[str] = []
    if isinstance(value, dict):
        if any(value.get(key) in subject.contact_ids for key in CONTACT_KEYS):
            found += [value.get(key) for key in ("name", "email", "phone", "recipient")]  # type: ignore[misc]
        if any(value.get(key) in subject.party_ids for key in PARTY_KEYS):
            found += [value.get(key) for key in PARTY_FIELDS]  # type: ignore[misc]
        for item in value.values():
            found += terms_in(item, subject)
    elif isinstance(value, list):
        for item in value:
            found += terms_in(item, subject)
    return [term for term in found if isinstance(term, str)]


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    data_type: str

    def as_text(self) -> str:
        quoted = _ident(self.name)
        if self.data_type == "bytea":
            return f"bytea_as_text({quoted})"  # shared migration 0005: binary stays binary
        return f"{quoted}::text"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def personal_columns(conn: asyncpg.Connection, schema: str) -> dict[str, list[Column]]:
    tables: dict[str, list[Column]] = {}
    for row in await conn.fetch(_COLUMNS, schema):
        tables.setdefault(row["table_name"], []).append(
            Column(row["table_name"], row["column_name"], row["data_type"])
        )
    return tables


def _mentions(columns: list[Column]) -> str:
    unfolded = " || ' ' || ".join(
        f"coalesce(regexp_replace({c.as_text()}, $2, '', 'g'), '')" for c in columns
    )
    return (
        f"EXISTS (SELECT 1 FROM unnest($1::text[]) AS v(term) "
        f"WHERE strpos(({unfolded}), v.term) > 0 OR strpos(lower({unfolded}), v.term) > 0)"
    )


async def _rows_mentioning(
    conn: asyncpg.Connection, schema: str, table: str, columns: list[Column], values: list[str]
) -> list[asyncpg.Record]:
    selected = ", ".join(
        f"{_ident(c.name)}::text" if c.data_type in ("json", "jsonb") else _ident(c.name)
        for c in columns
    )
    sql = (
        f"SELECT ctid::text AS row_ctid, {selected} FROM {_ident(schema)}.{_ident(table)} "
        f"WHERE {_mentions(columns)} FOR UPDATE"
    )
    return list(await conn.fetch(sql, values, FOLD))


async def find_terms(
    conn: asyncpg.Connection, schema: str, subject: ErasureSubject, skip: Iterable[str] = ()
) -> None:
    """Pass 1: add to ``subject.terms`` what the schema's JSON says about its ids."""
    if not subject.ids:
        return
    for table, columns in (await personal_columns(conn, schema)).items():
        documents = [c for c in columns if c.data_type in ("json", "jsonb")]
        if table in skip or not documents:
            continue
        for row in await _rows_mentioning(conn, schema, table, documents, sorted(subject.ids)):
            for column in documents:
                if row[column.name] is not None:
                    subject.add_terms(terms_in(json.loads(row[column.name]), subject))


async def scrub_schema(
    conn: asyncpg.Connection, schema: str, subject: ErasureSubject, skip: Iterable[str] = ()
) -> dict[str, int]:
    """Pass 2: rewrite every row that mentions a term or an id; rows changed per table."""
    scrubber = Scrubber.of(subject)
    values = subject.search_values()
    changed: dict[str, int] = {}
    if not values:
        return changed
    for table, columns in (await personal_columns(conn, schema)).items():
        if table in skip:
            continue
        count = 0
        for row in await _rows_mentioning(conn, schema, table, columns, values):
            updates = {
                c: scrubber.value(row[c.name], c.data_type)
                for c in columns
                if row[c.name] is not None
            }
            updates = {c: v for c, v in updates.items() if _differs(row[c.name], v, c)}
            if updates:
                await _update(conn, schema, table, row["row_ctid"], updates)
                count += 1
        if count:
            changed[f"{schema}.{table}"] = count
    return changed


def _differs(before: Any, after: Any, column: Column) -> bool:
    if column.data_type in ("json", "jsonb"):
        return bool(json.loads(before) != json.loads(after))
    return bool(before != after)


async def _update(
    conn: asyncpg.Connection, schema: str, table: str, ctid: str, updates: dict[Column, Any]
) -> None:
    assignments = []
    for n, column in enumerate(updates, start=2):
        cast = f"::text::{column.data_type}" if column.data_type in ("json", "jsonb") else ""
        assignments.append(f"{_ident(column.name)} = ${n}{cast}")
    table_name = f"{_ident(schema)}.{_ident(table)}"
    sql = f"UPDATE {table_name} SET {', '.join(assignments)} WHERE ctid = $1::text::tid"
    await conn.execute(sql, ctid, *updates.values())


async def erase_from_schema(
    conn: asyncpg.Connection, schema: str, subject: ErasureSubject, skip: Iterable[str] = ()
) -> dict[str, int]:
    """Both passes, in the caller's transaction."""
    await find_terms(conn, schema, subject, skip)
    return await scrub_schema(conn, schema, subject, skip)


__all__ = [
    "ERASED",
    "ErasureSubject",
    "Scrubber",
    "erase_from_schema",
    "find_terms",
    "scrub_schema",
    "term_pattern",
    "terms_in",
    "unfolded",
]


_TECHNICAL = frozenset({"outbox", "inbox", "schema_migrations", "received_events"})


async def rows_about(
    conn: asyncpg.Connection,
    schema: str,
    contact_ids: frozenset[str],
    own_terms: Callable[[asyncpg.Connection, ErasureSubject], Awaitable[object]] | None = None,
) -> dict[str, list[Any]]:
    """Access (Art. 15): every row of the schema that names the contacts, as JSON, per table.

    ``own_terms`` adds the terms only the service knows (from columns rather than JSON)."""
    subject = ErasureSubject("export", contact_ids)
    if own_terms is not None:
        await own_terms(conn, subject)
    await find_terms(conn, schema, subject)
    values = subject.search_values()
    found: dict[str, list[Any]] = {}
    for table, columns in (await personal_columns(conn, schema)).items():
        if table in _TECHNICAL or not values:
            continue
        sql = (
            f"SELECT to_jsonb(t)::text AS row FROM {_ident(schema)}.{_ident(table)} AS t "
            f"WHERE {_mentions(columns)}"
        )
        rows = [json.loads(row["row"]) for row in await conn.fetch(sql, values, FOLD)]
        if rows:
            found[table] = rows
    return found

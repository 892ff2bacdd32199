"""Importing companies, providers and needs from JSON or CSV: all rows valid, or none stored."""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

import charset_normalizer
from pydantic import BaseModel, ValidationError

from services.matching.schemas import CompanyIn, NeedIn, ProviderIn

KINDS: dict[str, tuple[str, type[BaseModel]]] = {
    "companies": ("company_id", CompanyIn),
    "providers": ("provider_id", ProviderIn),
    "needs": ("need_id", NeedIn),
}
LIST_FIELDS = {
    "languages",
    "categories",
    "service_types",
    "blocked_companies",
    "sectors",
    "references",
}
MAX_ROWS = 20_000


class UnreadableFileError(ValueError):
    """The file as a whole cannot be read."""


@dataclass
class Parsed:
    rows: list[tuple[str, BaseModel]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Spreadsheets saved on German Windows without "UTF-8" are Windows-1252 (a superset of
# Latin-1 for printable text); guessing any other single-byte code page turns "Müller" into
# "Mﮰller", so those are refused instead.
FALLBACK_ENCODING = "cp1252"


def decode_upload(body: bytes, charset: str | None) -> str:
    """The text of an uploaded file: by its BOM, the declared charset, UTF-8, UTF-16 without
    BOM, or Windows-1252; never with replacement characters."""
    encoding = next((name for bom, name in _BOMS if body.startswith(bom)), None) or charset
    candidates = [encoding] if encoding else ["utf-8", _wide_encoding(body), FALLBACK_ENCODING]
    for candidate in filter(None, candidates):
        try:
            text = body.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        if _plausible(text):
            return text
    msg = f"cannot read the file as {encoding or 'UTF-8 or Windows-1252'}; save it as UTF-8"
    raise UnreadableFileError(msg)


def _wide_encoding(body: bytes) -> str | None:
    guess = charset_normalizer.from_bytes(body[:65536]).best()
    if guess is not None and guess.encoding.startswith(("utf_16", "utf_32")):
        return guess.encoding
    return None


def _plausible(text: str) -> bool:
    return not any(ord(char) < 32 and char not in "\t\r\n" for char in text[:65536])


def records_from_csv(text: str) -> list[dict[str, Any]]:
    """One row per record. Lists are separated by ';', levels as 'code:level;…', one contact
    from the contact_* columns (contact_id, contact_name, contact_email, contact_phone,
    contact_locale, contact_sms_consent)."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        return [_record(row) for row in reader]
    except csv.Error as exc:
        msg = f"not readable as CSV near line {reader.line_num}: {exc}"
        raise UnreadableFileError(msg) from exc


def _record(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    contact: dict[str, Any] = {}
    for key, raw in row.items():
        if key is None or raw is None or raw.strip() == "":
            continue
        value = raw.strip()
        if key.startswith("contact_"):
            contact[key.removeprefix("contact_")] = value
        elif key in LIST_FIELDS:
            record[key] = [item.strip() for item in value.split(";") if item.strip()]
        elif key == "levels":
            record[key] = dict(_level(item) for item in value.split(";") if item.strip())
        else:
            record[key] = value
    if contact:
        contact.setdefault("contact_id", f"{next(iter(record.values()), 'c')}-contact")
        if "sms_consent" in contact:
            contact["sms_consent"] = contact["sms_consent"].lower() in {"1", "true", "ja", "yes"}
        record["contacts"] = [contact]
    return record


def _level(item: str) -> tuple[str, str]:
    code, _, level = item.partition(":")
    return code.strip(), level.strip()


def records_from_json(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"not JSON: {exc.msg} (line {exc.lineno})"
        raise UnreadableFileError(msg) from exc
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        msg = "expected a JSON list of objects"
        raise UnreadableFileError(msg)
    return data


def validate(kind: str, records: list[dict[str, Any]]) -> Parsed:
    key, model = KINDS[kind]
    if len(records) > MAX_ROWS:
        msg = f"at most {MAX_ROWS} rows per import, got {len(records)}"
        raise UnreadableFileError(msg)
    parsed = Parsed()
    seen: set[str] = set()
    for number, record in enumerate(records, start=1):
        identifier = str(record.get(key) or "").strip()
        if not identifier:
            parsed.errors.append({"row": number, "field": key, "message": "missing"})
            continue
        if identifier in seen:
            parsed.errors.append({"row": number, "field": key, "message": "duplicate in file"})
            continue
        seen.add(identifier)
        fields = {k: v for k, v in record.items() if k != key}
        try:
            parsed.rows.append((identifier, model.model_validate(fields)))
        except ValidationError as exc:
            parsed.errors.extend(
                {
                    "row": number,
                    key: identifier,
                    "field": ".".join(str(part) for part in error["loc"]) or key,
                    "message": error["msg"],
                }
                for error in exc.errors()
            )
    return parsed

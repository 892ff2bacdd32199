"""Service API errors, read from any of the shapes the services answer with, in German."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# pydantic's error types, as a caseworker would read them.
_GERMAN: dict[str, str] = {
    "missing": "Bitte ausfüllen.",
    "string_too_short": "Bitte ausfüllen.",
    "string_too_long": "Der Text ist zu lang.",
    "string_pattern_mismatch": "Das Format stimmt nicht.",
    "too_short": "Bitte mindestens einen Eintrag angeben.",
    "too_long": "Zu viele Einträge.",
    "greater_than_equal": "Der Wert ist zu klein.",
    "greater_than": "Der Wert ist zu klein.",
    "less_than_equal": "Der Wert ist zu groß.",
    "less_than": "Der Wert ist zu groß.",
    "int_parsing": "Bitte eine ganze Zahl angeben.",
    "float_parsing": "Bitte eine Zahl angeben.",
    "value_error": "Der Wert ist ungültig.",
    "enum": "Bitte einen der angebotenen Werte wählen.",
    "literal_error": "Bitte einen der angebotenen Werte wählen.",
    "datetime_parsing": "Bitte Datum und Uhrzeit angeben.",
    "timezone_aware": "Bitte Datum und Uhrzeit angeben.",
    "extra_forbidden": "Dieses Feld ist nicht vorgesehen.",
}
# The same, recognised by pydantic's English message when an API sends no type.
_BY_MESSAGE: tuple[tuple[str, str], ...] = (
    ("Field required", "missing"),
    ("String should match pattern", "string_pattern_mismatch"),
    ("String should have at least", "string_too_short"),
    ("String should have at most", "string_too_long"),
    ("List should have at least", "too_short"),
    ("should be greater than or equal", "greater_than_equal"),
    ("should be less than or equal", "less_than_equal"),
    ("valid integer", "int_parsing"),
    ("Extra inputs are not permitted", "extra_forbidden"),
    ("Input should be", "enum"),
)
_STATUS: dict[int, str] = {
    401: "Die Anmeldung beim Dienst ist abgelaufen oder fehlt.",
    403: "Für diese Aktion fehlt Ihnen die Berechtigung.",
    404: "Der Eintrag wurde nicht gefunden.",
    409: "Der Eintrag wurde inzwischen geändert; bitte laden Sie die Seite neu.",
    413: "Die Datei ist zu groß.",
    422: "Bitte prüfen Sie die markierten Angaben.",
    429: "Zu viele Anfragen; bitte kurz warten.",
}


@dataclass
class Problem:
    """What went wrong, for the page: a message and, where known, one message per field."""

    status: int
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""


def _field_name(loc: Any) -> str:
    if isinstance(loc, list | tuple):
        parts = [str(p) for p in loc if p not in ("body", "query", "path")]
        return ".".join(parts) or "body"
    text = str(loc or "")
    return text.lstrip("/").replace("/", ".") or "body"


def _german(entry: dict[str, Any]) -> str:
    kind = str(entry.get("type", ""))
    text = str(entry.get("msg") or entry.get("message") or entry.get("reason") or "")
    if kind not in _GERMAN:
        kind = next((k for phrase, k in _BY_MESSAGE if phrase in text), kind)
    if kind in _GERMAN:
        return _GERMAN[kind]
    return f"Ungültige Angabe ({text})" if text else "Ungültige Angabe."


def _entries(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    for key in ("errors", "invalid_params", "detail"):
        value = body.get(key)
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
        if isinstance(value, dict):
            nested = _entries(value)
            return nested or [value]
    return []


_ROLE_NAMES = {"viewer": "Lesen", "staff": "Sachbearbeitung", "admin": "Verwaltung"}
_NEEDED_ROLE = re.compile(r"needs the role '(\w+)'")


def forbidden_message(detail: str) -> str:
    """The German 403 message, naming the role the service asked for when it said which."""
    found = _NEEDED_ROLE.search(detail)
    if not found:
        return _STATUS[403]
    role = found.group(1)
    label = _ROLE_NAMES.get(role, role)
    return f"Für diese Aktion fehlt Ihnen die Berechtigung: nötig ist die Rolle „{label}“ ({role})."


def problem_from(status: int, body: Any) -> Problem:
    """A Problem from an API answer: FastAPI's ``detail`` list, a ``{field, message}`` detail,
    an RFC 9457 document with ``errors``, or an import's row errors."""
    problem = Problem(status=status, message=_STATUS.get(status, "Der Dienst meldet einen Fehler."))
    if isinstance(body, dict):
        detail = body.get("detail")
        problem.detail = detail if isinstance(detail, str) else str(body.get("title", ""))
    if status == 403:
        problem.message = forbidden_message(problem.detail)
    for entry in _entries(body):
        name = _field_name(
            entry.get("loc") or entry.get("field") or entry.get("name") or entry.get("pointer")
        )
        if "row" in entry:
            problem.rows.append({"row": entry["row"], "field": name, "message": _german(entry)})
            continue
        if name != "body" and ("message" in entry or "msg" in entry or "type" in entry):
            problem.fields.setdefault(name, _german(entry))
    return problem

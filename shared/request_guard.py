"""Odd input is refused with a 422 naming the field, before any endpoint sees it.

PostgreSQL stores no NUL character and no lone surrogate, a btree row holds about 2,700 bytes,
and validating JSON nested a thousand deep costs a recursion per level: each of these would
otherwise surface as a 500 from deep inside a route.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import HTTPException, Request, status

MAX_ID_LENGTH = 64
MAX_DEPTH = 32
Loc = list[str | int]


def unstorable_reason(text: str) -> str | None:
    """Why PostgreSQL could not store ``text``, or None."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode)"
    return None


def _error(loc: Loc, message: str) -> dict[str, Any]:
    return {"loc": loc, "message": message}


def _path_errors(path_params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for name, value in path_params.items():
        if not isinstance(value, str):
            continue
        if reason := unstorable_reason(value):
            yield _error(["path", name], reason)
        elif name.endswith("_id") and len(value) > MAX_ID_LENGTH:
            yield _error(["path", name], f"at most {MAX_ID_LENGTH} characters")


def _json_errors(document: Any) -> Iterator[dict[str, Any]]:
    """Walks the parsed body without recursion; stops descending below ``MAX_DEPTH``."""
    stack: list[tuple[Any, Loc]] = [(document, ["body"])]
    while stack:
        value, loc = stack.pop()
        if len(loc) > MAX_DEPTH + 1:
            yield _error(loc[:MAX_DEPTH], f"nested deeper than {MAX_DEPTH} levels")
            continue
        if isinstance(value, str):
            if reason := unstorable_reason(value):
                yield _error(loc, reason)
        elif isinstance(value, dict):
            for key, item in value.items():
                if reason := unstorable_reason(key):
                    yield _error(loc, f"a key {reason}")
                stack.append((item, [*loc, key]))
        elif isinstance(value, list):
            stack.extend((item, [*loc, index]) for index, item in enumerate(value))


async def _body_errors(request: Request) -> list[dict[str, Any]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        body = await request.body()
        if not body:
            return []
        try:
            # FastAPI has parsed it already; Starlette caches the result on the request.
            document = await request.json()
        except (ValueError, RecursionError):
            return []
        return list(_json_errors(document))
    if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.form()
        return [
            _error(["body", name], reason)
            for name, value in form.multi_items()
            if isinstance(value, str) and (reason := unstorable_reason(value))
        ]
    return []


async def refuse_odd_input(request: Request) -> None:
    """An app-wide dependency: path, query and body hold only what can be stored."""
    errors = list(_path_errors(request.path_params))
    errors += [
        _error(["query", name], reason)
        for name, value in request.query_params.multi_items()
        if (reason := unstorable_reason(name + value))
    ]
    if request.method in {"POST", "PUT", "PATCH"}:
        errors += await _body_errors(request)
    if errors:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {"message": "the request holds input that cannot be accepted", "errors": errors[:20]},
        )

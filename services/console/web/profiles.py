"""Anbieter and Unternehmen: lists, detail pages (with the exposure ledger), create/edit forms.

Forms send what staff typed to matching's PUT; its field errors come back beside the fields.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.responses import Response

from services.console import queries
from services.console.clients import ApiError, ServiceUnavailableError
from services.console.domain.paging import decode_cursor
from services.console.domain.problems import Problem
from services.console.web.auth import token_for
from services.console.web.needs import services_of
from services.console.web.render import check_csrf, flash_and_redirect, page, settings_of, wait_for
from services.console.web.session import session_of
from services.console.web.texts import translate
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
KINDS = {
    "anbieter": ("providers", "provider_id", "providers", "provider.html"),
    "unternehmen": ("companies", "company_id", "companies", "company.html"),
}
FORM_FIELDS = {
    "anbieter": (
        "id",
        "name",
        "kind",
        "profile",
        "categories",
        "postcode",
        "city",
        "capacity",
        "contact_name",
        "contact_email",
    ),
    "unternehmen": (
        "id",
        "name",
        "sector_code",
        "size",
        "postcode",
        "city",
        "contact_name",
        "contact_email",
    ),
}


@router.get("/{kind}")
async def profile_list(
    request: Request,
    kind: str,
    q: Annotated[str, Query(max_length=100)] = "",
    nach: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    if kind not in KINDS:
        raise HTTPException(404)
    table, id_column, _, _ = KINDS[kind]
    async with runtime_of(request).pool.acquire() as conn:
        result = await queries.named_list(
            conn, table, id_column, q.strip(), decode_cursor(nach), settings_of(request).page_size
        )
    return page(
        request,
        "profiles.html",
        {
            "kind": kind,
            "rows": result.rows,
            "next_cursor": result.next_cursor,
            "cursor": nach,
            "filters": {"q": q},
            "base_query": urlencode({"q": q} if q else {}),
            "id_column": id_column,
        },
        block="results",
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def body_from(kind: str, form: dict[str, str]) -> dict[str, Any]:
    """The PUT body matching expects, from the form's flat fields."""
    contact = {
        "contact_id": f"{form['id']}-kontakt",
        "name": form.get("contact_name", ""),
        "email": form.get("contact_email") or None,
    }
    common: dict[str, Any] = {
        "name": form.get("name", ""),
        "postcode": form.get("postcode", ""),
        "city": form.get("city", ""),
        "contacts": [contact],
    }
    if kind == "anbieter":
        return {
            **common,
            "kind": form.get("kind") or "it_provider",
            "profile": form.get("profile", ""),
            "categories": _split(form.get("categories", "")),
            "capacity": _number(form.get("capacity"), 4),
        }
    return {
        **common,
        "sector_code": form.get("sector_code", ""),
        "size": _number(form.get("size"), 10),
    }


def _number(text: str | None, default: int) -> Any:
    if not text:
        return default
    return int(text) if text.strip().isdigit() else text


def _rename(problem: Problem) -> Problem:
    """matching names contact fields ``contacts.0.name``; the form calls them contact_name."""
    renamed = {}
    for name, message in problem.fields.items():
        if name.startswith("contacts"):
            renamed["contact_email" if name.endswith("email") else "contact_name"] = message
        else:
            renamed[name] = message
    problem.fields = renamed
    return problem


@router.get("/{kind}/neu")
async def new_form(request: Request, kind: str) -> Response:
    if kind not in KINDS:
        raise HTTPException(404)
    return page(request, "profile_form.html", {"kind": kind, "form": {}, "new": True})


async def _load_form(conn: asyncpg.Connection, kind: str, row_id: str) -> dict[str, str]:
    row = await (
        queries.provider(conn, row_id) if kind == "anbieter" else queries.company(conn, row_id)
    )
    if row is None:
        raise HTTPException(404)
    form = {k: "" if v is None else str(v) for k, v in row.items()}
    form["id"] = row_id
    if kind == "anbieter":
        form["categories"] = ", ".join(row["categories"])
    return form


@router.get("/{kind}/{row_id}/bearbeiten")
async def edit_form(request: Request, kind: str, row_id: str) -> Response:
    if kind not in KINDS:
        raise HTTPException(404)
    async with runtime_of(request).pool.acquire() as conn:
        form = await _load_form(conn, kind, row_id)
    return page(request, "profile_form.html", {"kind": kind, "form": form, "new": False})


@router.post("/{kind}/speichern", dependencies=[Depends(check_csrf)])
async def save(request: Request, kind: str) -> Response:
    if kind not in KINDS:
        raise HTTPException(404)
    raw = await request.form()
    form = {name: str(raw.get(name, ""))[:5000] for name in FORM_FIELDS[kind]}
    new = raw.get("new") == "1"
    context = {"kind": kind, "form": form, "new": new}
    if not IDENTIFIER.match(form["id"]):
        problem = Problem(
            422,
            "Bitte prüfen Sie die markierten Angaben.",
            {"id": "Bitte eine Kennung aus Buchstaben, Ziffern, - oder _ angeben."},
        )
        return page(request, "profile_form.html", {**context, "problem": problem}, status_code=422)
    table, id_column, api_path, _ = KINDS[kind]
    try:
        await services_of(request).call(
            "matching",
            "PUT",
            f"/api/matching/{api_path}/{form['id']}",
            token_for(request),
            json=body_from(kind, form),
        )
    except ServiceUnavailableError as exc:
        return page(
            request, "profile_form.html", {**context, "unavailable": exc.service}, status_code=503
        )
    except ApiError as exc:
        return page(
            request,
            "profile_form.html",
            {**context, "problem": _rename(exc.problem)},
            status_code=exc.problem.status,
        )

    async def arrived(conn: asyncpg.Connection) -> bool:
        return bool(
            await conn.fetchval(
                f"SELECT true FROM {table} WHERE {id_column} = $1 AND name = $2",
                form["id"],
                form["name"],
            )
        )

    await wait_for(runtime_of(request), arrived, settings_of(request).action_wait_seconds)
    message = translate("Gespeichert.", session_of(request).language)
    return flash_and_redirect(request, f"/{kind}/{form['id']}", message)


@router.get("/{kind}/{row_id}")
async def detail(request: Request, kind: str, row_id: str) -> Response:
    if kind not in KINDS:
        raise HTTPException(404)
    _, _, _, template = KINDS[kind]
    async with runtime_of(request).pool.acquire() as conn:
        if kind == "anbieter":
            row = await queries.provider(conn, row_id)
            related = await queries.proposals_of_provider(conn, row_id)
        else:
            row = await queries.company(conn, row_id)
            related = await queries.needs_of_company(conn, row_id)
    if row is None:
        raise HTTPException(404)
    return page(request, template, {"kind": kind, "row": row, "related": related})

"""Datenschutz: erasure (Art. 17) and access (Art. 15) for a contact or an organisation.

Both are admin actions that matching records and fans out to every service; the console asks
matching for them and shows their progress (an erasure is done when every service confirmed,
overdue when one has not within ``MATCHING_ERASURE_OVERDUE_HOURS``). The export's JSON and
its German summary are fetched from matching when staff download them, never stored here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from starlette.responses import Response

from services.console import privacy_queries, queries
from services.console.clients import ApiError, ServiceUnavailableError
from services.console.web.auth import ADMIN_ROLES, may_act, token_for
from services.console.web.needs import services_of
from services.console.web.render import check_csrf, page
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)
RequestId = Path(max_length=64, pattern=r"^[a-z]+-[0-9a-f]{1,32}$")
PartyId = Path(max_length=64)
# Who can be named: the console's word for it, matching's field, and its page.
SUBJECTS = {
    "unternehmen": ("company_id", "Unternehmen"),
    "anbieter": ("provider_id", "Anbieter"),
    "kontakt": ("contact_id", "Kontakt"),
}
STATUS_LABELS = {
    "requested": "Angefordert",
    "in_progress": "In Bearbeitung",
    "done": "Erledigt",
    "overdue": "Überfällig",
    "assembling": "Wird zusammengestellt",
}
SERVICE_NAMES = {
    "matching": "Vermittlung",
    "booking": "Terminbuchung",
    "notify": "Benachrichtigungen",
    "console": "Verwaltungskonsole",
}


def _context(subject: dict[str, Any]) -> dict[str, Any]:
    labels = {kind: label for kind, (_, label) in SUBJECTS.items()}
    return {"subject": subject, "subject_labels": labels}


def _with_times(answer: dict[str, Any]) -> dict[str, Any]:
    """matching's answer with its ISO times as datetimes (shown in Europe/Berlin)."""
    found = dict(answer)
    found["requested_at"] = datetime.fromisoformat(found["requested_at"])
    found["confirmations"] = [
        {**c, "confirmed_at": datetime.fromisoformat(c["confirmed_at"])}
        for c in found.get("confirmations", [])
    ]
    return found


def _admin_only(request: Request) -> None:
    if not may_act(request, ADMIN_ROLES):
        raise HTTPException(403, "Datenschutz-Aufträge sind Administratorinnen vorbehalten.")


async def _subject(request: Request, kind: str, subject_id: str) -> dict[str, Any]:
    """What the read model knows about the named contact or organisation, for the pages."""
    if kind not in SUBJECTS:
        raise HTTPException(404)
    async with runtime_of(request).pool.acquire() as conn:
        if kind == "kontakt":
            found = await privacy_queries.contact(conn, subject_id)
            if found is None:
                raise HTTPException(404)
            return {"kind": kind, "id": subject_id, "name": found["contact_name"], **found}
        row = await (
            queries.company(conn, subject_id)
            if kind == "unternehmen"
            else queries.provider(conn, subject_id)
        )
        if row is None:
            raise HTTPException(404)
        return {
            "kind": kind,
            "id": subject_id,
            "name": row["name"],
            "contacts": await privacy_queries.contacts_of(conn, kind, subject_id),
            "counts": await privacy_queries.organisation_counts(conn, kind, subject_id),
        }


# The requests' pages first: their paths would otherwise match a subject's.
@router.get("/datenschutz/loeschungen/{request_id}")
async def erasure_status(request: Request, request_id: str = RequestId) -> Response:
    erasure = _with_times(await _from_matching(request, f"erasures/{request_id}"))
    context = {"erasure": erasure, "service_names": SERVICE_NAMES, "status_labels": STATUS_LABELS}
    return page(request, "privacy_erasure.html", context, block="progress")


@router.get("/datenschutz/auskuenfte/{request_id}")
async def export_status(request: Request, request_id: str = RequestId) -> Response:
    document = _with_times(await _from_matching(request, f"exports/{request_id}"))
    document.pop("services", None)  # the rows themselves only in the downloads
    context = {"export": document, "service_names": SERVICE_NAMES, "status_labels": STATUS_LABELS}
    return page(request, "privacy_export.html", context, block="progress")


@router.get("/datenschutz/auskuenfte/{request_id}/auskunft.json")
async def export_json(request: Request, request_id: str = RequestId) -> Response:
    return await _download(request, request_id, "", "application/json", "json")


@router.get("/datenschutz/auskuenfte/{request_id}/auskunft.html")
async def export_summary(request: Request, request_id: str = RequestId) -> Response:
    return await _download(request, request_id, "/summary", "text/html; charset=utf-8", "html")


async def _download(
    request: Request, request_id: str, suffix: str, media_type: str, extension: str
) -> Response:
    _admin_only(request)
    content = await services_of(request).fetch(
        "matching", f"/api/matching/privacy/exports/{request_id}{suffix}", token_for(request)
    )
    if content is None:
        raise HTTPException(404)
    disposition = f'attachment; filename="auskunft-{request_id}.{extension}"'
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/datenschutz/{kind}/{subject_id}")
async def subject_page(request: Request, kind: str, subject_id: str = PartyId) -> Response:
    """The person's or organisation's page: what is held, and the two actions."""
    subject = await _subject(request, kind, subject_id)
    return page(request, "privacy_subject.html", _context(subject))


@router.get("/datenschutz/{kind}/{subject_id}/loeschen")
async def erase_confirmation(request: Request, kind: str, subject_id: str = PartyId) -> Response:
    subject = await _subject(request, kind, subject_id)
    return page(request, "privacy_erase_confirm.html", _context(subject))


async def _ask_matching(request: Request, path: str, body: dict[str, str]) -> Any:
    return await services_of(request).call(
        "matching", "POST", f"/api/matching/privacy/{path}", token_for(request), json=body
    )


async def _refused(
    request: Request, subject: dict[str, Any], template: str, exc: Exception
) -> Response:
    if isinstance(exc, ServiceUnavailableError):
        context = {**_context(subject), "unavailable": exc.service}
        return page(request, template, context, status_code=503)
    assert isinstance(exc, ApiError)
    context = {**_context(subject), "problem": exc.problem}
    return page(request, template, context, status_code=exc.problem.status)


@router.post("/datenschutz/{kind}/{subject_id}/loeschen", dependencies=[Depends(check_csrf)])
async def erase(request: Request, kind: str, subject_id: str = PartyId) -> Response:
    return await _request(
        request, kind, subject_id, "erasures", "privacy_erase_confirm.html", "loeschungen"
    )


@router.post("/datenschutz/{kind}/{subject_id}/auskunft", dependencies=[Depends(check_csrf)])
async def export(request: Request, kind: str, subject_id: str = PartyId) -> Response:
    return await _request(
        request, kind, subject_id, "exports", "privacy_subject.html", "auskuenfte"
    )


async def _request(
    request: Request, kind: str, subject_id: str, api: str, form_page: str, status_pages: str
) -> Response:
    """Ask matching for an erasure or an export; on to its status page, or back to the form."""
    _admin_only(request)
    subject = await _subject(request, kind, subject_id)
    field, _ = SUBJECTS[kind]
    try:
        answer = await _ask_matching(request, api, {field: subject_id})
    except (ServiceUnavailableError, ApiError) as exc:
        return await _refused(request, subject, form_page, exc)
    return _see(f"/datenschutz/{status_pages}/{answer['request_id']}")


def _see(url: str) -> Response:
    return Response(status_code=303, headers={"Location": url})


async def _from_matching(request: Request, path: str) -> Any:
    _admin_only(request)
    try:
        return await services_of(request).call(
            "matching", "GET", f"/api/matching/privacy/{path}", token_for(request)
        )
    except ApiError as exc:
        raise HTTPException(exc.problem.status) from None

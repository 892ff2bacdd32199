"""Import: CSV or XLSX; every row error shown, nothing stored unless all rows are valid."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from services.console.clients import ApiError, ServiceUnavailableError
from services.console.domain.problems import Problem
from services.console.domain.sheets import UnreadableSheetError, looks_like_xlsx, xlsx_to_csv
from services.console.web.auth import token_for
from services.console.web.needs import services_of
from services.console.web.render import check_csrf, page

router = APIRouter(include_in_schema=False)
KINDS = {"companies": "Unternehmen", "providers": "Anbieter", "needs": "Bedarfe"}
MAX_UPLOAD = 20_000_000


@router.get("/import")
async def import_form(request: Request) -> Response:
    return page(request, "import.html", {"kinds": KINDS, "form": {"kind": "companies"}})


def _invalid(message: str) -> Problem:
    return Problem(422, "Bitte prüfen Sie die markierten Angaben.", {"datei": message})


@router.post("/import", dependencies=[Depends(check_csrf)])
async def import_file(request: Request) -> Response:
    form = await request.form()
    kind = str(form.get("kind", "companies"))
    upload = form.get("datei")
    context: dict[str, Any] = {"kinds": KINDS, "form": {"kind": kind}}
    if kind not in KINDS:
        context["problem"] = Problem(
            422, "Bitte eine Art wählen.", {"kind": "Bitte eine Art wählen."}
        )
        return page(request, "import.html", context, status_code=422)
    if not isinstance(upload, UploadFile) or not upload.filename:
        context["problem"] = _invalid("Bitte eine CSV- oder XLSX-Datei wählen.")
        return page(request, "import.html", context, status_code=422)
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        context["problem"] = _invalid("Die Datei ist größer als 20 MB.")
        return page(request, "import.html", context, status_code=413)
    try:
        text = (
            xlsx_to_csv(data)
            if looks_like_xlsx(upload.filename, data)
            else data.decode("utf-8-sig")
        )
    except (UnreadableSheetError, UnicodeDecodeError) as exc:
        message = (
            str(exc)
            if isinstance(exc, UnreadableSheetError)
            else ("Die CSV-Datei ist nicht UTF-8-kodiert.")
        )
        context["problem"] = _invalid(message)
        return page(request, "import.html", context, status_code=422)
    try:
        result = await services_of(request).call(
            "matching",
            "POST",
            f"/api/matching/import/{kind}",
            token_for(request),
            content=text.encode(),
            content_type="text/csv; charset=utf-8",
        )
    except ServiceUnavailableError as exc:
        return page(
            request, "import.html", {**context, "unavailable": exc.service}, status_code=503
        )
    except ApiError as exc:
        problem = exc.problem
        if problem.rows:
            problem.message = "Nichts wurde gespeichert."
        return page(
            request, "import.html", {**context, "problem": problem}, status_code=problem.status
        )
    return page(request, "import.html", {**context, "result": result})

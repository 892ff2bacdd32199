"""Berichte: the figures of a period with filters in the URL, their exports and the PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from services.console import reports_repository as repo
from services.console.domain import report_exports
from services.console.domain.report_tables import GROUP_LABELS, SIZE_LABELS
from services.console.domain.reports import (
    BERLIN,
    FilterError,
    ReportFilters,
    Table,
    month_of,
    read_filters,
)
from services.console.report_pdf import monthly_pdf
from services.console.reports import build_neutrality, build_report, charts, method_table
from services.console.web.render import page
from services.console.web.session import session_of
from services.console.web.texts import translate
from shared.service import runtime_of

router = APIRouter(include_in_schema=False)


def _today() -> date:
    return datetime.now(UTC).astimezone(BERLIN).date()


def _invalid(field_name: str, message: str) -> RequestValidationError:
    """A 422 problem naming the query parameter, like every other bad input."""
    return RequestValidationError(
        [{"loc": ("query", field_name), "msg": message, "type": "value_error"}]
    )


def report_filters(request: Request) -> tuple[ReportFilters, str]:
    params = dict(request.query_params)
    try:
        filters = read_filters(params, _today())
    except FilterError as exc:
        raise _invalid(exc.field, str(exc)) from exc
    return filters, repo.GROUPS.get(params.get("nach", ""), "category")


Filters = Annotated[tuple[ReportFilters, str], Depends(report_filters)]


def _language(request: Request) -> str:
    return session_of(request).language


async def _context(
    request: Request, filters: ReportFilters, group: str, *, with_neutrality: bool = False
) -> dict[str, Any]:
    """The page's figures; the exports add the neutrality report's tables (its own page)."""
    pool = runtime_of(request).pool
    report = await build_report(pool, filters, group)
    tables = dict(report.tables)
    if with_neutrality:
        neutrality = await build_neutrality(pool, filters)
        tables |= {**neutrality.tables, "method": method_table(neutrality.methods)}
    async with pool.acquire() as conn:
        choices = await repo.choices(conn)
        documents = await repo.documents(conn)
    return {
        "filters": filters,
        "group": group,
        "groups": {param: GROUP_LABELS[col] for param, col in repo.GROUPS.items()},
        "report": report,
        "tables": tables,
        "choices": choices,
        "sizes": SIZE_LABELS,
        "documents": documents,
        "charts": charts(report, _language(request)),
        "query": filters.query() | ({"nach": _param_of(group)} if group != "category" else {}),
    }


def _param_of(group: str) -> str:
    return next(param for param, col in repo.GROUPS.items() if col == group)


@router.get("/berichte")
async def reports_page(request: Request, chosen: Filters) -> Response:
    filters, group = chosen
    return page(request, "reports.html", await _context(request, filters, group))


def _export_tables(context: dict[str, Any], key: str) -> list[Table]:
    tables: dict[str, Table] = context["tables"]
    if not key:
        return list(tables.values())
    if key not in tables:
        raise HTTPException(404, f"no table {key}")
    return [tables[key]]


def _download(body: bytes, media: str, name: str) -> Response:
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/berichte/export.csv")
async def export_csv(
    request: Request, chosen: Filters, tabelle: Annotated[str, Query(max_length=30)] = "needs"
) -> Response:
    filters, group = chosen
    context = await _context(request, filters, group, with_neutrality=True)
    [table] = _export_tables(context, tabelle or "needs")
    lang = _language(request)
    text = report_exports.to_csv(table, lambda s: translate(s, lang))
    name = f"bericht-{table.key}-{filters.period.first}-{filters.period.last}.csv"
    return _download(("\ufeff" + text).encode(), "text/csv; charset=utf-8", name)


@router.get("/berichte/export.xlsx")
async def export_xlsx(request: Request, chosen: Filters) -> Response:
    filters, group = chosen
    context = await _context(request, filters, group, with_neutrality=True)
    lang = _language(request)
    body = report_exports.to_xlsx(context["tables"].values(), lambda s: translate(s, lang))
    name = f"bericht-{filters.period.first}-{filters.period.last}.xlsx"
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(body, media, name)


def _month(text: str) -> date:
    try:
        return date.fromisoformat(text + "-01")
    except ValueError as exc:
        raise _invalid("monat", "Der Monat ist unlesbar (JJJJ-MM).") from exc


@router.get("/berichte/monatsbericht.pdf")
async def monthly_report(
    request: Request, chosen: Filters, monat: Annotated[str, Query(max_length=7)] = ""
) -> Response:
    first = _month(monat) if monat else month_of(_today()).first
    filters = chosen[0]
    pdf = await monthly_pdf(runtime_of(request).pool, filters.for_month(month_of(first)))
    return _download(pdf, "application/pdf", f"monatsbericht-{first:%Y-%m}.pdf")


@router.get("/berichte/archiv/{month}.pdf")
async def stored_report(request: Request, month: str) -> Response:
    first = _month(month)
    async with runtime_of(request).pool.acquire() as conn:
        pdf = await repo.document(conn, first)
    if pdf is None:
        raise HTTPException(404, f"no report for {month}")
    return _download(pdf, "application/pdf", f"monatsbericht-{first:%Y-%m}.pdf")


@router.get("/berichte/neutralitaet")
async def neutrality_page(request: Request, chosen: Filters) -> Response:
    filters, _group = chosen
    neutrality = await build_neutrality(runtime_of(request).pool, filters)
    return page(
        request,
        "report_neutrality.html",
        {
            "filters": filters,
            "neutrality": neutrality,
            "method": method_table(neutrality.methods),
            "query": filters.query(),
        },
    )


@router.get("/berichte/anbieter/{provider_id}")
async def provider_report(request: Request, provider_id: str, chosen: Filters) -> Response:
    filters, _group = chosen
    async with runtime_of(request).pool.acquire() as conn:
        name = await repo.provider_name(conn, provider_id)
        if name is None:
            raise HTTPException(404, f"no provider {provider_id}")
    neutrality = await build_neutrality(runtime_of(request).pool, filters, provider_id)
    return page(
        request,
        "report_provider.html",
        {
            "filters": filters,
            "neutrality": neutrality,
            "name": name,
            "method": method_table(neutrality.methods),
            "query": filters.query(),
        },
    )

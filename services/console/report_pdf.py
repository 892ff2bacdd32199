"""The monthly report as a German PDF (WeasyPrint), from the page's own table and chart partials;
and the schedule that stores last month's report once, whichever replica gets there first."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import asyncpg

from services.console import reports_repository as repo
from services.console.domain.reports import BERLIN, ReportFilters, previous_month
from services.console.reports import build_neutrality, build_report, charts, method_table
from services.console.web.render import TEMPLATES, berlin
from services.console.web.texts import translate
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)

CHECK_SECONDS = 15 * 60
# pg_try_advisory_lock key: one replica at a time writes the monthly report.
LOCK_KEY = 0x57_42_52_50  # "WBRP"


def _german(text: str, **kw: object) -> str:
    german = translate(text, "de")
    return german.format(**kw) if kw else german


async def render_html(pool: asyncpg.Pool, filters: ReportFilters) -> str:
    report, neutrality = await asyncio.gather(
        build_report(pool, filters, "category"), build_neutrality(pool, filters)
    )
    method = method_table(neutrality.methods)
    tables = {**report.tables, **neutrality.tables, "method": method}
    return TEMPLATES.get_template("report_pdf.html").render(
        _=_german,
        lang="de",
        filters=filters,
        report=report,
        tables=tables,
        method=method,
        neutrality=neutrality,
        charts=charts(report, "de"),
        created=berlin(datetime.now(UTC)),
    )


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: pango loads only when a PDF is asked for

    # System fonts (DejaVu): embedding the console's WOFF2 web fonts takes WeasyPrint seconds.
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


async def monthly_pdf(pool: asyncpg.Pool, filters: ReportFilters) -> bytes:
    html = await render_html(pool, filters)
    return await asyncio.to_thread(_pdf, html)


async def store_last_month(pool: asyncpg.Pool, now: datetime) -> bool:
    """Produce and keep last month's report unless it exists; True when this call stored it."""
    period = previous_month(now.astimezone(BERLIN).date())
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
            return False
        try:
            if await repo.has_document(conn, period.first):
                return False
            html = await render_html(pool, ReportFilters(period=period))
            pdf = await asyncio.to_thread(_pdf, html)
            stored = await repo.store_document(conn, period.first, pdf)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    if stored:
        log.info("monthly report stored", extra={"month": period.first.isoformat()})
    return stored


async def monthly_schedule(runtime: ServiceRuntime) -> None:
    """After a month ends, its report is produced once and listed on the Berichte page."""
    while True:
        await store_last_month(runtime.pool, datetime.now(UTC))
        await asyncio.sleep(CHECK_SECONDS)

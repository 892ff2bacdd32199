"""Reports: the figures of a period from the read model, as tables for the page and the exports."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg

from services.console import reports_repository as repo
from services.console.domain import report_tables as t
from services.console.domain.reports import ReportFilters, Table, bar_chart
from services.console.web.texts import translate

T = TypeVar("T")


@dataclass
class Neutrality:
    tables: dict[str, Table]
    fairness: dict[str, float | None]
    methods: list[dict[str, Any]]
    provider: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


async def _read(pool: asyncpg.Pool, query: Callable[..., Awaitable[T]], *args: Any) -> T:
    async with pool.acquire() as conn:
        return await query(conn, *args)


async def build_report(pool: asyncpg.Pool, f: ReportFilters, group: str) -> t.Report:
    """The queries are independent: each runs on a connection of its own, at the same time."""
    needs, meetings, deliveries, spans, months, feedback = await asyncio.gather(
        _read(pool, repo.need_figures, f, group),
        _read(pool, repo.meeting_figures, f, group),
        _read(pool, repo.delivery_figures, f),
        _read(pool, repo.need_spans, f),
        _read(pool, repo.needs_per_month, f),
        _read(pool, repo.feedback_figures, f),
    )
    report = t.Report(t.summarize(needs, meetings, deliveries))
    tables = (
        t.needs_table(needs, group),
        t.spans_table(spans),
        t.months_table(months),
        t.meetings_table(meetings, group),
        t.feedback_table(feedback),
        t.deliveries_table(deliveries),
    )
    report.tables = {table.key: table for table in tables}
    return report


async def build_neutrality(
    pool: asyncpg.Pool, f: ReportFilters, provider_id: str | None = None
) -> Neutrality:
    """The public aggregates; with ``provider_id`` that provider's own figures instead."""
    shown, met, methods, everyone = await asyncio.gather(
        _read(pool, repo.proposal_counts, f, provider_id),
        _read(pool, repo.meeting_counts, f, provider_id),
        _read(pool, repo.methods, f),
        _read(pool, repo.providers_of, "" if provider_id else f.category),
    )
    rows = t.exposure_rows(shown, met, everyone)
    if provider_id is not None:
        table = t.provider_table(rows)
        return Neutrality({table.key: table}, {}, methods, provider_id, rows)
    idle = len({p["provider_id"] for p in everyone} - {r["provider_id"] for r in rows})
    table = t.public_table(rows)
    return Neutrality({table.key: table}, t.fairness(rows, idle), methods)


def method_table(methods: list[dict[str, Any]]) -> Table:
    rows: list[tuple[object, ...]] = [
        (
            m["taxonomy_version"],
            m["tolerance"],
            ", ".join(f"{k} {v:g}" for k, v in sorted(m["weights"].items())),
            m["runs"],
        )
        for m in methods
    ]
    return Table(
        "method", "Verfahren", ("Taxonomie-Version", "Toleranz", "Gewichte", "Läufe"), rows
    )


def charts(report: t.Report, lang: str) -> list[dict[str, Any]]:
    def _(text: str) -> str:
        return translate(text, lang)

    s = report.summary
    funnel = [
        (_("Eingegangen"), s.received),
        (_("Vermittelt"), s.matched),
        (_("Mit Termin"), s.met),
        (_("Abgeschlossen"), s.closed),
    ]
    months = [(str(r[0]), float(str(r[1]))) for r in report.tables["months"].rows]
    channels: list[tuple[str, float]] = []
    for row in report.tables["deliveries"].rows:
        channels.append((f"{row[0]} – {_('zugestellt')}", float(str(row[1]))))
        channels.append((f"{row[0]} – {_('fehlgeschlagen')}", float(str(row[2]))))
    return [
        {
            "key": "funnel",
            "title": _("Bedarfe vom Eingang bis zum Abschluss"),
            "chart": bar_chart(funnel),
        },
        {"key": "months", "title": _("Bedarfe je Monat"), "chart": bar_chart(months)},
        {"key": "channels", "title": _("Zustellungen je Kanal"), "chart": bar_chart(channels)},
    ]

"""Reports: the figures of a period from the read model, as tables for the page and the exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.console import reports_repository as repo
from services.console.domain import report_tables as t
from services.console.domain.reports import ReportFilters, Table, bar_chart
from services.console.web.texts import translate


@dataclass
class Neutrality:
    tables: dict[str, Table]
    fairness: dict[str, float | None]
    methods: list[dict[str, Any]]
    provider: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


async def build_report(conn: asyncpg.Connection, f: ReportFilters, group: str) -> t.Report:
    needs = await repo.need_figures(conn, f, group)
    meetings = await repo.meeting_figures(conn, f, group)
    deliveries = await repo.delivery_figures(conn, f)
    report = t.Report(t.summarize(needs, meetings, deliveries))
    tables = (
        t.needs_table(needs, group),
        t.spans_table(await repo.need_spans(conn, f)),
        t.months_table(await repo.needs_per_month(conn, f)),
        t.meetings_table(meetings, group),
        t.feedback_table(await repo.feedback_figures(conn, f)),
        t.deliveries_table(deliveries),
    )
    report.tables = {table.key: table for table in tables}
    return report


async def build_neutrality(
    conn: asyncpg.Connection, f: ReportFilters, provider_id: str | None = None
) -> Neutrality:
    """The public aggregates; with ``provider_id`` that provider's own figures instead."""
    rows = [dict(r) for r in await repo.exposure(conn, f, provider_id)]
    methods = await repo.methods(conn, f)
    if provider_id is not None:
        table = t.provider_table(rows)
        return Neutrality({table.key: table}, {}, methods, provider_id, rows)
    idle = await repo.idle_providers(conn, f)
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

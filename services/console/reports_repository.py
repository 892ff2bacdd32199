"""The report read model's reads: counts and percentiles, aggregated in SQL for the volume."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from services.console.domain.reports import DIMENSIONS, ReportFilters

# The breakdown's column; only these names ever reach the SQL text.
GROUPS = {
    "kategorie": "category",
    "branche": "sector",
    "bezirk": "district",
    "groesse": "size_class",
}


def _where(f: ReportFilters, time_column: str, *, channel: bool = False) -> tuple[str, list[Any]]:
    clauses = [f"{time_column} >= $1", f"{time_column} < $2"]
    args: list[Any] = [f.period.start, f.period.end]
    names = [*DIMENSIONS, "channel"] if channel else list(DIMENSIONS)
    for name in names:
        value = f.dimension(name)
        if value:
            args.append(value)
            clauses.append(f"{name} = ${len(args)}")
    return " AND ".join(clauses), args


def _span(column: str) -> str:
    return (
        f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP "
        f"(ORDER BY extract(epoch FROM {column} - received_at))"
    )


async def need_figures(
    conn: asyncpg.Connection, f: ReportFilters, group: str
) -> list[asyncpg.Record]:
    where, args = _where(f, "received_at")
    return list(
        await conn.fetch(
            f"""SELECT {group} AS grp, count(*) AS received, count(matched_at) AS matched,
                count(met_at) AS met, count(outcome_at) AS closed
            FROM report_needs WHERE {where} GROUP BY {group} ORDER BY {group}""",
            *args,
        )
    )


async def need_spans(conn: asyncpg.Connection, f: ReportFilters) -> asyncpg.Record:
    where, args = _where(f, "received_at")
    row = await conn.fetchrow(
        f"""SELECT count(proposed_at) AS n_proposal, {_span("proposed_at")} AS proposal,
            count(meeting_at) AS n_meeting, {_span("meeting_at")} AS meeting,
            count(outcome_at) AS n_outcome, {_span("outcome_at")} AS outcome
        FROM report_needs WHERE {where}""",
        *args,
    )
    assert row is not None
    return row


async def needs_per_month(conn: asyncpg.Connection, f: ReportFilters) -> list[asyncpg.Record]:
    where, args = _where(f, "received_at")
    return list(
        await conn.fetch(
            f"""SELECT to_char(received_at AT TIME ZONE 'Europe/Berlin', 'YYYY-MM') AS month,
                count(*) AS received
            FROM report_needs WHERE {where} GROUP BY 1 ORDER BY 1""",
            *args,
        )
    )


async def meeting_figures(
    conn: asyncpg.Connection, f: ReportFilters, group: str
) -> list[asyncpg.Record]:
    where, args = _where(f, "starts_at")
    return list(
        await conn.fetch(
            f"""SELECT {group} AS grp, count(*) AS total,
                count(*) FILTER (WHERE attendance = 'held') AS held,
                count(*) FILTER (WHERE declined) AS declined,
                count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                count(*) FILTER (WHERE attendance = 'no_show') AS no_show
            FROM report_meetings WHERE {where} GROUP BY {group} ORDER BY {group}""",
            *args,
        )
    )


async def feedback_figures(conn: asyncpg.Connection, f: ReportFilters) -> list[asyncpg.Record]:
    where, args = _where(f, "given_at")
    return list(
        await conn.fetch(
            f"""SELECT category, count(*) AS answers, count(rating) AS rated,
                avg(rating)::float8 AS rating,
                count(*) FILTER (WHERE outcome = 'project_started') AS project_started,
                count(*) FILTER (WHERE outcome = 'in_progress') AS in_progress,
                count(*) FILTER (WHERE outcome = 'no_follow_up') AS no_follow_up
            FROM report_feedback WHERE {where} GROUP BY category ORDER BY category""",
            *args,
        )
    )


async def delivery_figures(conn: asyncpg.Connection, f: ReportFilters) -> list[asyncpg.Record]:
    where, args = _where(f, "at", channel=True)
    return list(
        await conn.fetch(
            f"""SELECT channel, count(*) FILTER (WHERE status = 'delivered') AS sent,
                count(*) FILTER (WHERE status = 'failed') AS failed,
                count(*) FILTER (WHERE status = 'pending') AS pending
            FROM report_deliveries WHERE {where} GROUP BY channel ORDER BY channel""",
            *args,
        )
    )


async def choices(conn: asyncpg.Connection) -> dict[str, list[str]]:
    """The values each filter can take, for the selects."""
    rows = await conn.fetch(
        """SELECT 'sector' AS dim, sector AS value FROM report_companies WHERE sector <> ''
        UNION SELECT 'district', district FROM report_companies WHERE district <> ''
        UNION SELECT 'category', c FROM providers, unnest(categories) AS c
        ORDER BY 1, 2"""
    )
    found: dict[str, list[str]] = {"sector": [], "district": [], "category": []}
    for row in rows:
        found[row["dim"]].append(row["value"])
    return found


async def proposal_counts(
    conn: asyncpg.Connection, f: ReportFilters, provider_id: str | None = None
) -> list[asyncpg.Record]:
    """Per provider and category: proposed, first, tied, first among the tied, chosen."""
    return list(
        await conn.fetch(
            """SELECT provider_id, category, count(*) AS proposed,
                count(*) FILTER (WHERE rank = 1) AS first,
                count(*) FILTER (WHERE tied) AS tied,
                count(*) FILTER (WHERE first_tied) AS first_tied,
                count(*) FILTER (WHERE chosen) AS chosen
            FROM report_proposals
            WHERE proposed_at >= $1 AND proposed_at < $2
              AND ($3::text IS NULL OR category = $3) AND ($4::text IS NULL OR provider_id = $4)
            GROUP BY provider_id, category""",
            f.period.start,
            f.period.end,
            f.category or None,
            provider_id,
        )
    )


async def meeting_counts(
    conn: asyncpg.Connection, f: ReportFilters, provider_id: str | None = None
) -> list[asyncpg.Record]:
    """Per provider and category: the meetings not cancelled (the capacity they used)."""
    return list(
        await conn.fetch(
            """SELECT provider_id, category, count(*) AS meetings
            FROM report_meetings
            WHERE starts_at >= $1 AND starts_at < $2 AND status <> 'cancelled'
              AND ($3::text IS NULL OR category = $3) AND ($4::text IS NULL OR provider_id = $4)
            GROUP BY provider_id, category""",
            f.period.start,
            f.period.end,
            f.category or None,
            provider_id,
        )
    )


async def providers_of(conn: asyncpg.Connection, category: str) -> list[asyncpg.Record]:
    """Every provider of the category (or all), with name and capacity."""
    return list(
        await conn.fetch(
            "SELECT provider_id, name, capacity FROM providers "
            "WHERE $1::text IS NULL OR $1 = ANY(categories)",
            category or None,
        )
    )


async def methods(conn: asyncpg.Connection, f: ReportFilters) -> list[dict[str, Any]]:
    """Each distinct tolerance, weighting and taxonomy in force in the period, newest first."""
    rows = await conn.fetch(
        """SELECT taxonomy_version, tolerance, weights::text AS weights,
            min(proposed_at) AS since, max(proposed_at) AS until, count(*) AS runs
        FROM report_runs WHERE proposed_at >= $1 AND proposed_at < $2
        GROUP BY 1, 2, 3 ORDER BY until DESC LIMIT 10""",
        f.period.start,
        f.period.end,
    )
    return [{**dict(r), "weights": json.loads(r["weights"] or "{}")} for r in rows]


async def provider_name(conn: asyncpg.Connection, provider_id: str) -> str | None:
    name: str | None = await conn.fetchval(
        "SELECT name FROM providers WHERE provider_id = $1", provider_id
    )
    return name


async def store_document(conn: asyncpg.Connection, month: date, pdf: bytes) -> bool:
    """Keep the month's report; False when another replica (or an earlier run) already did."""
    status: str = await conn.execute(
        "INSERT INTO report_documents (month, pdf) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        month,
        pdf,
    )
    return status.endswith(" 1")


async def has_document(conn: asyncpg.Connection, month: date) -> bool:
    found = await conn.fetchval("SELECT 1 FROM report_documents WHERE month = $1", month)
    return found is not None


async def documents(conn: asyncpg.Connection) -> Sequence[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT month, created_at, length(pdf) AS size FROM report_documents "
            "ORDER BY month DESC LIMIT 36"
        )
    )


async def document(conn: asyncpg.Connection, month: date) -> bytes | None:
    pdf: bytes | None = await conn.fetchval(
        "SELECT pdf FROM report_documents WHERE month = $1", month
    )
    return pdf

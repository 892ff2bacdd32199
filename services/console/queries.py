"""The read model's reads, one per page. Filters and sorts come whitelisted from the URL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from services.console.domain.paging import (
    Cursor,
    Sort,
    encode_cursor,
    keyset_clause,
    order_clause,
)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None


@dataclass
class Filters:
    """A list's WHERE clauses and their parameters, numbered as they are added."""

    clauses: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, clause: str, *values: Any) -> None:
        numbered = clause
        for value in values:
            self.args.append(value)
            numbered = numbered.replace("?", f"${len(self.args)}", 1)
        self.clauses.append(numbered)

    @property
    def where(self) -> str:
        return ("WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


async def keyset_page(
    conn: asyncpg.Connection,
    select: str,
    filters: Filters,
    sort: Sort,
    id_column: str,
    cursor: Cursor | None,
    limit: int,
    cast: str = "",
) -> Page:
    if cursor is not None:
        position = len(filters.args) + 1
        filters.clauses.append(keyset_clause(sort, id_column, position, cast))
        filters.args.extend([cursor.value, cursor.row_id])
    sql = f"{select} {filters.where} {order_clause(sort, id_column)} LIMIT {limit + 1}"
    rows = [dict(r) for r in await conn.fetch(sql, *filters.args)]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        value = last["sort_value"]
        next_cursor = encode_cursor(
            value.isoformat() if isinstance(value, datetime) else value,
            str(last[id_column.rsplit(".", 1)[-1]]),
        )
    return Page(rows, next_cursor)


NEED_SORTS = {
    "neu": Sort("neu", "n.updated_at", True),
    "alt": Sort("alt", "n.updated_at", False),
    "titel": Sort("titel", "lower(n.title)", False),
}
MEETING_SORTS = {
    "beginn": Sort("beginn", "m.starts_at", False),
    "beginn-ab": Sort("beginn-ab", "m.starts_at", True),
}
NAME_SORTS = {"name": Sort("name", "lower(x.name)", False)}


async def needs(
    conn: asyncpg.Connection,
    *,
    text: str,
    status: str,
    category: str,
    district: str,
    since: datetime | None,
    declined_twice: bool = False,
    sort: Sort,
    cursor: Cursor | None,
    limit: int,
) -> Page:
    f = Filters()
    if declined_twice:
        f.add("n.declines >= 2")
    if text:
        f.add("n.search @@ websearch_to_tsquery('german', ?)", text)
    if status:
        f.add("n.status = ?", status)
    if category:
        f.add("? = ANY(n.categories)", category)
    if district:
        f.add("(c.city ILIKE ? OR c.postcode LIKE ?)", f"%{district}%", f"{district}%")
    if since is not None:
        f.add("n.updated_at >= ?", since)
    select = f"""
        SELECT n.need_id, n.title, n.status, n.categories, n.updated_at, n.company_id,
               c.name AS company_name, c.city, {sort.expression} AS sort_value
        FROM needs n LEFT JOIN companies c USING (company_id)"""
    cast = "::timestamptz" if "updated_at" in sort.expression else ""
    return await keyset_page(conn, select, f, sort, "n.need_id", cursor, limit, cast)


async def need(conn: asyncpg.Connection, need_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """SELECT n.*, c.name AS company_name, c.city, c.postcode, c.sector_code
           FROM needs n LEFT JOIN companies c USING (company_id) WHERE n.need_id = $1""",
        need_id,
    )
    return dict(row) if row else None


async def proposals(
    conn: asyncpg.Connection, need_id: str, run_id: str | None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT p.*, pr.name AS provider_name, pr.city AS provider_city
           FROM proposals p LEFT JOIN providers pr USING (provider_id)
           WHERE p.need_id = $1 AND p.run_id = $2 ORDER BY p.rank""",
        need_id,
        run_id,
    )
    return [dict(r) for r in rows]


# A need's runs: those that proposed (matching publishes no event of its own for a run), and
# who asked for each, from the audit trail.
_RUNS_OF = """
WITH proposing AS (
    SELECT run_id, min(proposed_at) AS requested_at FROM proposals WHERE need_id = $1
    GROUP BY run_id
), known AS (
    SELECT run_id, requested_at FROM proposing
    UNION ALL
    SELECT run_id, requested_at FROM runs
    WHERE need_ids @> ARRAY[$1]::text[] AND run_id NOT IN (SELECT run_id FROM proposing)
)
SELECT k.run_id, k.requested_at, coalesce(r.requested_by, a.actor_name, '') AS requested_by,
       coalesce(r.batch, k.run_id LIKE 'batch-%') AS batch
FROM known k
LEFT JOIN runs r USING (run_id)
LEFT JOIN LATERAL (
    SELECT actor_name FROM audit_trail WHERE targets @> jsonb_build_object('run_id', k.run_id)
    ORDER BY recorded_at LIMIT 1
) a ON true
ORDER BY k.requested_at DESC LIMIT 20
"""


async def runs_of(conn: asyncpg.Connection, need_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(_RUNS_OF, need_id)]


async def meetings_of_need(conn: asyncpg.Connection, need_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM meetings WHERE need_id = $1 ORDER BY starts_at DESC", need_id
    )
    return [dict(r) for r in rows]


async def proposal(conn: asyncpg.Connection, proposal_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM proposals WHERE proposal_id = $1", proposal_id)
    return dict(row) if row else None


async def meetings(
    conn: asyncpg.Connection,
    *,
    status: str,
    venue: str,
    since: datetime | None,
    until: datetime | None,
    attendance: str = "",
    sort: Sort,
    cursor: Cursor | None,
    limit: int,
) -> Page:
    f = Filters()
    if status:
        f.add("m.status = ?", status)
    if attendance:
        f.add("m.attendance = ?", attendance)
    if venue:
        f.add("(m.venue_name ILIKE ? OR m.room_name ILIKE ?)", f"%{venue}%", f"%{venue}%")
    if since is not None:
        f.add("m.starts_at >= ?", since)
    if until is not None:
        f.add("m.starts_at < ?", until)
    select = f"""SELECT m.meeting_id, m.title, m.starts_at, m.ends_at, m.status, m.venue_name,
                        m.room_name, m.company_name, m.provider_name, m.declines, m.attendance,
                        {sort.expression} AS sort_value
                 FROM meetings m"""
    return await keyset_page(conn, select, f, sort, "m.meeting_id", cursor, limit, "::timestamptz")


async def meeting(conn: asyncpg.Connection, meeting_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM meetings WHERE meeting_id = $1", meeting_id)
    return dict(row) if row else None


async def attendees(conn: asyncpg.Connection, meeting_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM attendees WHERE meeting_id = $1 ORDER BY party_kind, contact_name",
        meeting_id,
    )
    return [dict(r) for r in rows]


async def deliveries_of(conn: asyncpg.Connection, meeting_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT d.*, a.contact_name FROM deliveries d
           LEFT JOIN attendees a ON a.meeting_id = d.meeting_id AND a.contact_id = d.contact_id
           WHERE d.meeting_id = $1 ORDER BY d.at""",
        meeting_id,
    )
    return [dict(r) for r in rows]


async def deliveries(
    conn: asyncpg.Connection, *, status: str, cursor: Cursor | None, limit: int
) -> Page:
    f = Filters()
    if status:
        f.add("d.status = ?", status)
    else:
        f.add("d.status IN ('failed', 'pending')")
    sort = Sort("neu", "d.at", True)
    select = """SELECT d.*, m.title AS meeting_title, d.at AS sort_value
                FROM deliveries d LEFT JOIN meetings m USING (meeting_id)"""
    return await keyset_page(conn, select, f, sort, "d.delivery_id", cursor, limit, "::timestamptz")


async def named_list(
    conn: asyncpg.Connection,
    table: str,
    id_column: str,
    text: str,
    cursor: Cursor | None,
    limit: int,
) -> Page:
    f = Filters()
    if text:
        f.add(
            "(x.name ILIKE ? OR x.city ILIKE ? OR x.postcode LIKE ?)",
            f"%{text}%",
            f"%{text}%",
            f"{text}%",
        )
    sort = NAME_SORTS["name"]
    select = f"SELECT x.*, {sort.expression} AS sort_value FROM {table} x"
    return await keyset_page(conn, select, f, sort, f"x.{id_column}", cursor, limit)


async def provider(conn: asyncpg.Connection, provider_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM providers WHERE provider_id = $1", provider_id)
    return dict(row) if row else None


async def company(conn: asyncpg.Connection, company_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM companies WHERE company_id = $1", company_id)
    return dict(row) if row else None


async def needs_of_company(conn: asyncpg.Connection, company_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT need_id, title, status FROM needs WHERE company_id = $1 ORDER BY updated_at DESC "
        "LIMIT 100",
        company_id,
    )
    return [dict(r) for r in rows]


async def proposals_of_provider(conn: asyncpg.Connection, provider_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT p.need_id, p.rank, p.status, p.proposed_at, n.title FROM proposals p
           LEFT JOIN needs n USING (need_id) WHERE p.provider_id = $1
           ORDER BY p.proposed_at DESC LIMIT 50""",
        provider_id,
    )
    return [dict(r) for r in rows]


async def dead_letter_groups(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT consumer, reason, count(*) AS count, max(dead_lettered_at) AS latest,
                  array_agg(event_id::text ORDER BY dead_lettered_at DESC) AS ids
           FROM dead_letters WHERE state = 'open'
           GROUP BY consumer, reason ORDER BY latest DESC LIMIT 200"""
    )
    return [dict(r) for r in rows]


async def dead_letter(conn: asyncpg.Connection, event_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM dead_letters WHERE event_id = $1::uuid", event_id)
    return dict(row) if row else None


async def overview(
    conn: asyncpg.Connection, day_start: datetime, day_end: datetime, week_end: datetime
) -> dict[str, int]:
    row = await conn.fetchrow(
        """SELECT
             (SELECT count(*) FROM needs WHERE status = 'open') AS open_needs,
             (SELECT count(*) FROM needs WHERE status = 'proposed') AS waiting,
             (SELECT count(*) FROM meetings WHERE status = 'confirmed'
                AND starts_at >= $1 AND starts_at < $2) AS today,
             (SELECT count(*) FROM meetings WHERE status = 'confirmed'
                AND starts_at >= $1 AND starts_at < $3) AS week,
             (SELECT count(*) FROM needs WHERE declines >= 2) AS declined_twice,
             (SELECT count(*) FROM needs WHERE status = 'proposed' AND no_proposal)
                AS no_proposal,
             (SELECT count(*) FROM meetings WHERE attendance = 'no_show') AS no_show,
             (SELECT count(*) FROM deliveries WHERE status = 'failed') AS failed_deliveries,
             (SELECT count(*) FROM dead_letters WHERE state = 'open') AS dead_letters""",
        day_start,
        day_end,
        week_end,
    )
    return dict(row) if row else {}

"""Many generated providers and open needs, written straight into a matching schema (for the
batch worker's tests and the batch benchmark)."""

from __future__ import annotations

import json
from dataclasses import asdict

import asyncpg

from tests.matching.test_index import needs, providers

COMPANY = {"name": "Bench", "postcode": "44137", "city": "Dortmund", "languages": ["de", "tr"]}


def rows(size: int) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    provider_rows = []
    for p in providers(size, seed=11):
        doc = asdict(p)
        doc.update(
            service_types=[s.value for s in p.service_types],
            levels=dict(p.levels),
            capacity=2,
            booked=0,
            radius_km=60.0,
            contacts=[],
        )
        provider_rows.append((p.provider_id, json.dumps(doc)))
    need_rows = []
    for n in needs(size, seed=13):
        doc = {
            "company_id": "co-bench",
            "title": n.title,
            "description": n.description,
            "categories": list(n.categories),
            "service_type": n.service_type.value,
            "budget_max": n.budget_max,
            "provider_kinds": ["it_provider", "mentor"],
        }
        need_rows.append((n.need_id, "co-bench", json.dumps(doc)))
    return provider_rows, need_rows


async def insert(conn: asyncpg.Connection, size: int) -> None:
    """``size`` providers (capacity 2 each) and ``size`` open needs of one company."""
    provider_rows, need_rows = rows(size)
    await conn.execute(
        "INSERT INTO companies (company_id, doc) VALUES ('co-bench', $1::text::jsonb)",
        json.dumps(COMPANY),
    )
    await conn.executemany(
        "INSERT INTO providers (provider_id, doc) VALUES ($1, $2::text::jsonb)", provider_rows
    )
    await conn.executemany(
        "INSERT INTO needs (need_id, company_id, doc) VALUES ($1, $2, $3::text::jsonb)", need_rows
    )

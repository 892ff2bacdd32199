"""One access request (GDPR Art. 15), answered by one service with what it holds."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from shared.db import Pool
from shared.events.base import Envelope, utc_now, wrap
from shared.events.privacy import ExportAssembled, ExportRequested
from shared.messaging.inbox import handle_once
from shared.messaging.outbox import enqueue
from shared.privacy import ErasureSubject, rows_about

PART_BYTES = 96 * 1024
"""Rows per part at most this large (JSON): far below the consumers' limit (256 KiB) and the
NATS server's maximum payload (1 MiB by default), with room for the envelope."""

OwnTerms = Callable[[asyncpg.Connection, ErasureSubject], Awaitable[object]]
OwnRecords = Callable[[asyncpg.Connection, frozenset[str]], Awaitable[dict[str, list[Any]]]]
"""Rows about the contacts that no search for their terms finds (e.g. their organisation's)."""


async def handle_export(
    *,
    pool: Pool,
    service: str,
    schema: str,
    consumer: str,
    envelope: Envelope[ExportRequested],
    own_terms: OwnTerms | None = None,
    own_records: OwnRecords | None = None,
) -> None:
    async def effect(conn: asyncpg.Connection) -> None:
        contact_ids = frozenset(envelope.data.contact_ids)
        records = await rows_about(conn, schema, contact_ids, own_terms)
        if own_records is not None:
            for table, rows in (await own_records(conn, contact_ids)).items():
                known = records.get(table, [])  # a row the term search found already
                records[table] = [*known, *(row for row in rows if row not in known)]
        chunks = in_parts(records)
        now = utc_now()
        for number, chunk in enumerate(chunks, start=1):
            part = ExportAssembled(
                request_id=envelope.data.request_id,
                service=service,
                records=chunk,
                assembled_at=now,
                part=number,
                parts=len(chunks),
            )
            await enqueue(conn, wrap(part, source=service, causation=envelope))

    await handle_once(pool, consumer, envelope, effect)


def in_parts(
    records: dict[str, list[dict[str, Any]]], limit: int = PART_BYTES
) -> list[dict[str, list[dict[str, Any]]]]:
    """The rows, in order, cut into parts of at most ``limit`` bytes of JSON each (a single
    larger row travels alone); always at least one part, so that an empty answer arrives."""
    parts: list[dict[str, list[dict[str, Any]]]] = [{}]
    size = 0
    for table, rows in records.items():
        for row in rows:
            row_size = len(json.dumps(row, ensure_ascii=False, default=str).encode())
            if size and size + row_size > limit:
                parts.append({})
                size = 0
            parts[-1].setdefault(table, []).append(row)
            size += row_size
    return parts

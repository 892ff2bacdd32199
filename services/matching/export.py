"""Access requests (GDPR Art. 15): matching asks every service, stores the parts, assembles."""

from __future__ import annotations

import html
import json
import uuid
from typing import Any

import asyncpg

from services.matching import privacy_repository as repo
from shared.events.base import utc_now, wrap
from shared.events.privacy import ERASING_SERVICES, ExportAssembled, ExportRequested
from shared.messaging import enqueue

_INSERT = """
INSERT INTO export_requests (request_id, contact_ids, requested_by, requested_at)
VALUES ($1, $2, $3, $4)
"""
_STORE_PART = """
INSERT INTO export_parts (request_id, service, records, assembled_at, part, parts)
SELECT $1, $2, $3::text::jsonb, $4, $5, $6
WHERE EXISTS (SELECT 1 FROM export_requests WHERE request_id = $1)
ON CONFLICT (request_id, service, part) DO NOTHING
"""
_REQUEST = """
SELECT request_id, contact_ids, requested_by, requested_at FROM export_requests
WHERE request_id = $1
"""
_PARTS = """
SELECT service, records::text AS records, part, parts FROM export_parts
WHERE request_id = $1 ORDER BY service, part
"""
SERVICE_NAMES_DE = {
    "matching": "Vermittlung",
    "booking": "Terminbuchung",
    "notify": "Benachrichtigungen",
    "console": "Verwaltungskonsole",
}


async def request_export(
    conn: asyncpg.Connection,
    *,
    requested_by: str,
    contact_id: str | None,
    email: str | None,
    company_id: str | None = None,
    provider_id: str | None = None,
) -> ExportRequested | None:
    """An export of one contact, or of every contact of an organisation."""
    found = await repo.contacts_of(
        conn, contact_id=contact_id, email=email, company_id=company_id, provider_id=provider_id
    )
    contact_ids = tuple(sorted({row["contact_id"] for row in found if row["contact_id"]}))
    if not contact_ids:
        return None
    event = ExportRequested(
        request_id=f"export-{uuid.uuid4().hex[:16]}",
        contact_ids=contact_ids,
        requested_by=requested_by,
        requested_at=utc_now(),
    )
    await conn.execute(
        _INSERT, event.request_id, list(contact_ids), requested_by, event.requested_at
    )
    await enqueue(conn, wrap(event, source="matching"))
    return event


async def store_part(conn: asyncpg.Connection, part: ExportAssembled) -> None:
    await conn.execute(
        _STORE_PART,
        part.request_id,
        part.service,
        json.dumps(part.records),
        part.assembled_at,
        part.part,
        part.parts,
    )


async def assembled(conn: asyncpg.Connection, request_id: str) -> dict[str, Any] | None:
    request = await conn.fetchrow(_REQUEST, request_id)
    if request is None:
        return None
    services: dict[str, dict[str, list[Any]]] = {}
    pieces: dict[str, tuple[int, int]] = {}
    for row in await conn.fetch(_PARTS, request_id):
        tables = services.setdefault(row["service"], {})
        for table, rows in json.loads(row["records"]).items():
            tables.setdefault(table, []).extend(rows)
        seen, _ = pieces.get(row["service"], (0, 0))
        pieces[row["service"]] = (seen + 1, row["parts"])
    whole = {service for service, (seen, parts) in pieces.items() if seen >= parts}
    return {
        **dict(request),
        "status": "done" if set(ERASING_SERVICES) <= whole else "assembling",
        "waiting_for": sorted(set(ERASING_SERVICES) - whole),
        "services": {service: services[service] for service in sorted(whole)},
    }


def summary_html(document: dict[str, Any]) -> str:
    """A readable German summary of the export: per service, per table, every stored row."""
    e = html.escape
    sections = []
    for service, tables in sorted(document["services"].items()):
        blocks = []
        for table, rows in sorted(tables.items()):
            items = "".join(
                f"<li><pre>{e(json.dumps(row, ensure_ascii=False, indent=2))}</pre></li>"
                for row in rows
            )
            blocks.append(f"<h3>Tabelle {e(table)} ({len(rows)} Einträge)</h3><ul>{items}</ul>")
        name = SERVICE_NAMES_DE.get(service, service)
        body = "".join(blocks) or "<p>Keine gespeicherten Daten.</p>"
        sections.append(f"<section><h2>{e(name)} ({e(service)})</h2>{body}</section>")
    waiting = ", ".join(document["waiting_for"])
    note = f"<p><strong>Noch ausstehend:</strong> {e(waiting)}</p>" if waiting else ""
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        "<title>Auskunft nach Art. 15 DSGVO</title></head><body>"
        "<h1>Auskunft nach Art. 15 DSGVO</h1>"
        f"<p>Antrag {e(document['request_id'])} vom "
        f"{e(document['requested_at'].strftime('%d.%m.%Y %H:%M'))} UTC, "
        f"Kontakt-Kennungen: {e(', '.join(document['contact_ids']))}.</p>"
        "<p>Gespeichert zum Zweck der Vermittlung von Digitalisierungsberatung und der "
        "Vereinbarung von Terminen. Fristen und Empfänger: siehe Verzeichnis von "
        "Verarbeitungstätigkeiten.</p>"
        f"{note}{''.join(sections)}</body></html>"
    )

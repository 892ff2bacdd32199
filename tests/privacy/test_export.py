"""Access (GDPR Art. 15): one request, every service's part, a JSON document and a German page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.privacy.conftest import TOKEN
from tests.privacy.test_erasure import arrange_a_meeting, deliveries_for, person
from tests.support.harness import RunningService, eventually

pytestmark = pytest.mark.integration


async def test_an_export_gathers_what_every_service_holds_about_the_person(
    services: dict[str, RunningService],
) -> None:
    erika = person()
    meeting = await arrange_a_meeting(services, erika, f"co-exp-{erika['contact_id']}")

    async def delivered() -> bool:
        rows = await deliveries_for(services, meeting["meeting_id"])
        return any(d["contact_id"] == erika["contact_id"] and d["status"] == "sent" for d in rows)

    await eventually(delivered, timeout=30)
    async with services["matching"].client(TOKEN) as staff:
        asked = await staff.post(
            "/api/matching/privacy/exports", json={"contact_id": erika["contact_id"]}
        )
        assert asked.status_code == 202, asked.text
        request_id = asked.json()["request_id"]
        document: dict[str, Any] = {}

        async def assembled() -> bool:
            document.update((await staff.get(f"/api/matching/privacy/exports/{request_id}")).json())
            return bool(document["status"] == "done")

        await eventually(assembled, timeout=30)
        page = await staff.get(f"/api/matching/privacy/exports/{request_id}/summary")
        nobody = await staff.post("/api/matching/privacy/exports", json={"email": "x@example.org"})

    parts = document["services"]
    assert set(parts) == {"matching", "booking", "notify", "console"}
    assert "companies" in parts["matching"]
    assert "needs" in parts["matching"]
    assert "meetings" in parts["booking"]
    assert "deliveries" in parts["notify"]
    assert "attendees" in parts["console"]
    for service in ("matching", "booking", "notify", "console"):
        assert erika["email"] in json.dumps(parts[service], ensure_ascii=False), service
    assert page.headers["content-type"].startswith("text/html")
    assert "Auskunft nach Art. 15 DSGVO" in page.text
    assert "Terminbuchung" in page.text
    assert erika["name"] in page.text
    assert nobody.status_code == 404


_DELIVERY = """
INSERT INTO deliveries (delivery_id, event_id, event_type, channel, recipient, contact_id, status,
                        payload, updated_at)
SELECT 'big-' || $1 || '-' || n, gen_random_uuid(), 'booking.meeting.confirmed', 'email', $2, $1,
       'sent', jsonb_build_object('body', repeat('Guten Tag, hier ist Ihr Termin. ', 40)), now()
FROM generate_series(1, $3) AS n
"""


async def test_a_large_history_arrives_whole_in_parts_below_the_payload_limit(
    services: dict[str, RunningService],
) -> None:
    erika = person()
    await arrange_a_meeting(services, erika, f"co-big-{erika['contact_id']}")
    # Two years of reminders: far more than one NATS message may carry (1 MiB at most).
    count = 1200
    notify = services["notify"].runtime.pool
    await notify.execute(_DELIVERY, erika["contact_id"], erika["email"], count)
    async with services["matching"].client(TOKEN) as staff:
        asked = await staff.post(
            "/api/matching/privacy/exports", json={"contact_id": erika["contact_id"]}
        )
        request_id = asked.json()["request_id"]
        document: dict[str, Any] = {}

        async def assembled() -> bool:
            document.update((await staff.get(f"/api/matching/privacy/exports/{request_id}")).json())
            return bool(document["status"] == "done")

        await eventually(assembled, timeout=60)

    deliveries = document["services"]["notify"]["deliveries"]
    assert len(json.dumps(deliveries).encode()) > 1024 * 1024
    assert sum(d["delivery_id"].startswith("big-") for d in deliveries) == count
    pieces = await services["matching"].runtime.pool.fetch(
        "SELECT part, parts FROM export_parts WHERE request_id = $1 AND service = 'notify'",
        request_id,
    )
    assert len(pieces) == pieces[0]["parts"] > 1
    assert sorted(p["part"] for p in pieces) == list(range(1, len(pieces) + 1))

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
    assert set(parts) == {"matching", "booking", "notify"}
    assert "companies" in parts["matching"]
    assert "needs" in parts["matching"]
    assert "meetings" in parts["booking"]
    assert "deliveries" in parts["notify"]
    for service in ("matching", "booking", "notify"):
        assert erika["email"] in json.dumps(parts[service], ensure_ascii=False), service
    assert page.headers["content-type"].startswith("text/html")
    assert "Auskunft nach Art. 15 DSGVO" in page.text
    assert "Terminbuchung" in page.text
    assert erika["name"] in page.text
    assert nobody.status_code == 404

"""Erasure (GDPR Art. 17) across the three services, the streams and the dead letters."""

from __future__ import annotations

import asyncio
import json
import random
import re
import string
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import asyncpg
import httpx
import pytest

from shared.events.base import wrap
from shared.events.common import Contact, Party, PartyKind, ServiceType
from shared.events.matching import MatchAccepted, NeedSummary
from shared.events.privacy import ERASING_SERVICES
from shared.privacy import ErasureSubject
from shared.privacy_streams import purge_stream
from tests.matching.sample import PROVIDERS
from tests.privacy.conftest import TOKEN
from tests.privacy.search import columns_mentioning, messages_mentioning
from tests.support.harness import RunningService, eventually, nats_client, publish
from tests.support.streams import read_all
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


def person() -> dict[str, str]:
    letters = "".join(random.choices(string.ascii_lowercase, k=8))
    digits = "".join(random.choices(string.digits, k=8))
    return {
        "contact_id": f"c-{uuid.uuid4().hex[:8]}",
        "name": f"Erika Zwiebel{letters}",
        "email": f"erika.{letters}@example.org",
        "phone": f"+49231{digits}",
    }


def company(erika: dict[str, str]) -> dict[str, Any]:
    return {
        "name": f"Feinkost {erika['name'].split()[1]}",
        "sector_code": "47.11",
        "postcode": "44147",
        "city": "Dortmund",
        "lat": 51.52,
        "lon": 7.45,
        "contacts": [{**erika, "locale": "de", "sms_consent": True}],
    }


def need(company_id: str, erika: dict[str, str]) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "title": "Kundenchat für Stammkunden",
        "description": f"Kundenchat und Messenger für Bestellungen von Stammkunden. Rückfragen an "
        f"{erika['name']}, {erika['phone']} oder {erika['email']}.",
        "categories": ["market.chat"],
        "service_type": "first_advice",
    }


async def arrange_a_meeting(
    services: dict[str, RunningService], erika: dict[str, str], company_id: str
) -> dict[str, Any]:
    async with services["matching"].client(TOKEN) as staff:
        assert (
            await staff.put(f"/api/matching/companies/{company_id}", json=company(erika))
        ).is_success
        for provider_id, body in PROVIDERS.items():
            assert (await staff.put(f"/api/matching/providers/{provider_id}", json=body)).is_success
        need_id = f"n-{company_id}"
        assert (
            await staff.put(f"/api/matching/needs/{need_id}", json=need(company_id, erika))
        ).is_success
        proposals = (await staff.post(f"/api/matching/needs/{need_id}/match")).json()
        accepted = await staff.post(f"/api/matching/proposals/{proposals[0]['proposal_id']}/accept")
        assert accepted.is_success, accepted.text
    async with services["booking"].client(TOKEN) as staff:

        async def booked() -> bool:
            found = (await staff.get("/api/booking/meetings", params={"q": need_id})).json()
            return any(m["details"]["need_id"] == need_id for m in found)

        await eventually(booked, timeout=30)
        meetings = (await staff.get("/api/booking/meetings", params={"q": need_id})).json()
    return next(m for m in meetings if m["details"]["need_id"] == need_id)


async def deliveries_for(services: dict[str, RunningService], meeting_id: str) -> list[Any]:
    async with services["notify"].client(TOKEN) as staff:
        answer = await staff.get("/api/notify/deliveries", params={"meeting_id": meeting_id})
        return list(answer.json())


async def answer_and_give_feedback(
    services: dict[str, RunningService], meeting: dict[str, Any], erika: dict[str, str]
) -> None:
    attendee = next(
        a
        for a in meeting["details"]["attendees"]
        if a["contact"]["contact_id"] == erika["contact_id"]
    )
    booking = services["booking"]
    path = urlparse(attendee["rsvp_url"]).path
    async with httpx.AsyncClient(base_url=booking.base_url) as client:
        answered = await client.post(
            path,
            data={"response": "accepted", "comment": f"Gern, {erika['name']}, {erika['phone']}"},
            headers={"Accept": "application/json"},
        )
        assert answered.is_success, answered.text
    # The meeting is in the future; move it into the past so that it can be held.
    past = datetime.now(UTC) - timedelta(days=1)
    await booking.runtime.pool.execute(
        "UPDATE meetings SET starts_at = $2, ends_at = $3 WHERE meeting_id = $1",
        meeting["meeting_id"], past, past + timedelta(hours=1),
    )  # fmt: skip
    async with booking.client(TOKEN) as staff:
        held = await staff.post(
            f"/api/booking/meetings/{meeting['meeting_id']}/attendance", json={"status": "held"}
        )
        assert held.is_success, held.text
    link = next(
        link["url"]
        for link in held.json()["feedback_links"]
        if link["contact_id"] == erika["contact_id"]
    )
    async with httpx.AsyncClient(base_url=booking.base_url) as client:
        given = await client.post(
            urlparse(link).path,
            data={"rating": "4", "comment": f"Sehr gut. Grüße, {erika['name']} ({erika['email']})"},
        )
        assert given.is_success, given.text


async def dead_letter_naming(stack: StackInfo, erika: dict[str, str], company_id: str) -> None:
    """A MatchAccepted booking cannot read (no such provider contact): dead-lettered whole."""
    event = MatchAccepted(
        match_id=f"m-{uuid.uuid4().hex[:8]}",
        proposal_id="prop-x",
        run_id="run-x",
        need=NeedSummary(
            need_id="n-x", title="x", description="x", categories=("market.chat",),
            service_type=ServiceType.FIRST_ADVICE,
        ),
        company=Party(
            party_id=company_id, kind=PartyKind.COMPANY, name="Feinkost",
            contacts=(Contact(**erika),),
        ),
        provider=Party(
            party_id="p-x", kind=PartyKind.PROVIDER, name="X",
            contacts=(Contact(contact_id="c-x", name="X Y", email="x@example.org"),),
        ),
        accepted_by="staff",
    )  # fmt: skip
    body = json.loads(wrap(event, source="matching").to_bytes())
    body["data"]["meeting_mode"] = "teleportation"  # a schema violation: dead-lettered at once
    async with nats_client(stack.nats_url) as client:
        await publish(client, wrap(event, source="matching"), body=json.dumps(body).encode())


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def erase_through_the_console(console: RunningService, erika: dict[str, str]) -> str:
    """As an administrator would: the confirmation page names her, the form asks matching, the
    status page shows the request until every service has confirmed it."""
    async with httpx.AsyncClient(base_url=console.base_url, timeout=30) as browser:
        confirm = await browser.get(f"/datenschutz/kontakt/{erika['contact_id']}/loeschen")
        assert confirm.status_code == 200, confirm.text
        assert erika["name"] in confirm.text
        token = CSRF.search(confirm.text)
        assert token is not None
        erased = await browser.post(
            f"/datenschutz/kontakt/{erika['contact_id']}/loeschen",
            data={"csrf_token": token.group(1)},
        )
        assert erased.status_code == 303, erased.text
        status_page = erased.headers["location"]
        assert status_page.startswith("/datenschutz/loeschungen/erase-")

        async def done() -> bool:
            shown = await browser.get(status_page)
            return 'data-status="done"' in shown.text

        await eventually(done, timeout=90)
        shown = (await browser.get(status_page)).text
        for name in ("Vermittlung", "Terminbuchung", "Benachrichtigungen", "Verwaltungskonsole"):
            assert name in shown
        assert erika["name"] not in shown
    return status_page.rsplit("/", 1)[-1]


async def test_an_erased_contact_is_found_nowhere_in_any_schema_or_stream(
    services: dict[str, RunningService], stack: StackInfo
) -> None:
    erika = person()
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    meeting = await arrange_a_meeting(services, erika, company_id)

    async def delivered() -> bool:
        rows = await deliveries_for(services, meeting["meeting_id"])
        channels = {(d["contact_id"], d["channel"]) for d in rows if d["status"] == "sent"}
        return {(erika["contact_id"], "email"), (erika["contact_id"], "sms")} <= channels

    await eventually(delivered, timeout=30)
    await answer_and_give_feedback(services, meeting, erika)
    await dead_letter_naming(stack, erika, company_id)
    terms = [erika["email"], erika["phone"], erika["name"]]
    async with nats_client(stack.nats_url) as client:

        async def dead_lettered() -> bool:
            return any("DEADLETTER" in m for m in await messages_mentioning(client, terms))

        await eventually(dead_lettered, timeout=30)
    conn: asyncpg.Connection = await asyncpg.connect(stack.database_url)
    console = services["console"].runtime.settings.schema_name
    try:

        async def in_the_read_model() -> bool:
            found = await columns_mentioning(conn, terms)
            wanted = {f"{console}.attendees.email", f"{console}.dead_letters.original_body"}
            return wanted <= set(found)

        await eventually(in_the_read_model, timeout=60)
        before = await columns_mentioning(conn, terms)
        assert any(".deliveries." in c for c in before)
        assert any(".meetings." in c for c in before)
        assert any(".feedback." in c for c in before)
        assert any(".needs." in c for c in before)

        request_id = await erase_through_the_console(services["console"], erika)
        async with services["matching"].client(TOKEN) as staff:
            status = (await staff.get(f"/api/matching/privacy/erasures/{request_id}")).json()
        assert status["contact_ids"] == [erika["contact_id"]]

        assert {c["service"] for c in status["confirmations"]} == set(ERASING_SERVICES)
        console_rows = next(c["rows"] for c in status["confirmations"] if c["service"] == "console")
        assert f"{console}.attendees" in console_rows
        assert await columns_mentioning(conn, terms) == []
        async with nats_client(stack.nats_url) as client:
            assert await messages_mentioning(client, terms) == []
        deleted = sum(sum(c["stream_messages_deleted"].values()) for c in status["confirmations"])
        assert deleted >= 3, "the match, the meeting events and the dead letter were deleted"

        # Statistics stay: the deliveries, the meeting and the rating are still counted.
        rows = await deliveries_for(services, meeting["meeting_id"])
        assert sum(d["contact_id"] == erika["contact_id"] for d in rows) >= 2
        rating = await services["booking"].runtime.pool.fetchval(
            "SELECT rating FROM feedback WHERE contact_id = $1", erika["contact_id"]
        )
        assert rating == 4
        # Nobody else was erased: the provider's contact is still there.
        other = next(
            a["contact"] for a in meeting["details"]["attendees"]
            if a["contact"]["contact_id"] != erika["contact_id"]
        )  # fmt: skip
        assert await columns_mentioning(conn, [other["email"]]) != []
    finally:
        await conn.close()


async def test_an_erasure_names_exactly_one_person_or_organisation(
    services: dict[str, RunningService],
) -> None:
    async with services["matching"].client(TOKEN) as staff:
        both = await staff.post(
            "/api/matching/privacy/erasures", json={"contact_id": "c-1", "company_id": "co-1"}
        )
        nobody = await staff.post(
            "/api/matching/privacy/erasures", json={"email": "niemand@example.org"}
        )
        unknown = await staff.get("/api/matching/privacy/erasures/erase-unknown")
    assert both.status_code == 422
    assert nobody.status_code == 404
    assert unknown.status_code == 404


async def test_an_empty_stream_is_searched_without_asking_for_message_zero(
    stack: StackInfo,
) -> None:
    """A stream that never held a message reports first_seq 0; the server refuses to get it."""
    name = f"EMPTY_{uuid.uuid4().hex[:8].upper()}"
    subject = ErasureSubject("erase-empty", frozenset({"c-nobody"}), terms={"Niemand Nirgends"})
    async with nats_client(stack.nats_url) as client:
        js = client.jetstream()
        await js.add_stream(name=name, subjects=[f"{name.lower()}.>"])
        try:
            assert await purge_stream(client, name, subject, service="test") == 0
        finally:
            await js.delete_stream(name)


_WAITING_FOR_THE_OUTBOX = """
SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = 'outbox' AND NOT l.granted
"""


async def test_an_event_written_while_the_erasure_runs_is_not_published_with_the_person(
    services: dict[str, RunningService], stack: StackInfo
) -> None:
    """A transaction that wrote an event naming the person is still open when the erasure
    starts: the erasure waits for it, then scrubs the event before the relay may publish it."""
    erika = person()
    company_id = f"co-race-{uuid.uuid4().hex[:8]}"
    matching = services["matching"]
    async with matching.client(TOKEN) as staff:
        put = await staff.put(f"/api/matching/companies/{company_id}", json=company(erika))
        assert put.is_success, put.text
    body = json.dumps(
        {"type": "test.privacy.race", "data": {"contact_id": erika["contact_id"],
         "name": erika["name"], "email": erika["email"], "note": f"Anruf {erika['phone']}"}}
    ).encode()  # fmt: skip
    schema = matching.runtime.settings.schema_name
    async with matching.runtime.pool.acquire() as writer:
        in_flight = writer.transaction()
        await in_flight.start()
        event_id = uuid.uuid4()
        await writer.execute(
            "INSERT INTO outbox (event_id, subject, headers, body) "
            "VALUES ($1, 'matching.test.race', $2::text::jsonb, $3)",
            event_id,
            json.dumps({"Nats-Msg-Id": str(event_id)}),
            body,
        )
        async with matching.client(TOKEN) as staff:
            # The staff action writes to the outbox too (its audit record): it may have to wait
            # for the erasure, which waits for the open transaction, so it runs alongside.
            asking = asyncio.create_task(
                staff.post(
                    "/api/matching/privacy/erasures", json={"contact_id": erika["contact_id"]}
                )
            )

            async def erasure_waits() -> bool:
                return bool(await matching.runtime.pool.fetchval(_WAITING_FOR_THE_OUTBOX, schema))

            await eventually(erasure_waits, timeout=30)
            await in_flight.commit()
            requested = await asking
            assert requested.status_code == 202, requested.text
            request_id = requested.json()["request_id"]

            async def done() -> bool:
                status = (await staff.get(f"/api/matching/privacy/erasures/{request_id}")).json()
                return bool(status["status"] == "done")

            await eventually(done, timeout=60)

    async def relayed() -> bool:
        return not await matching.runtime.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE subject = 'matching.test.race' "
            "AND published_at IS NULL"
        )

    await eventually(relayed, timeout=30)
    terms = [erika["email"], erika["phone"], erika["name"]]
    async with nats_client(stack.nats_url) as client:
        assert await messages_mentioning(client, terms) == []
        race = [
            m for m in await read_all(client, "MATCHING", "matching.test.race")
            if erika["contact_id"] in m.data.decode()
        ]  # fmt: skip
    assert len(race) == 1, "the event itself was published, without the person's data"

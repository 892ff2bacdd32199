"""SMS consent: recorded when first used, withdrawn by an inbound STOP or by staff, at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.privacy.conftest import TOKEN, WEBHOOK_SECRET
from tests.privacy.test_erasure import arrange_a_meeting, deliveries_for, person
from tests.support.harness import RunningService, eventually
from werkbank.sinks import SmsSink

pytestmark = pytest.mark.integration


async def inbound(
    notify: RunningService, sender: str, text: str, secret: str = WEBHOOK_SECRET
) -> int:
    url = f"{notify.base_url}/api/notify/sms/inbound"
    return await asyncio.to_thread(SmsSink.post_inbound, url, sender, text, secret)


async def test_a_stop_reply_withdraws_consent_and_no_further_sms_goes_to_that_number(
    services: dict[str, RunningService],
) -> None:
    erika = person()
    meeting = await arrange_a_meeting(services, erika, f"co-sms-{erika['contact_id']}")

    def mine(rows: list[Any], channel: str) -> list[Any]:
        return [
            d for d in rows if d["contact_id"] == erika["contact_id"] and d["channel"] == channel
        ]

    async def sms_sent() -> bool:
        return any(
            d["status"] == "sent"
            for d in mine(await deliveries_for(services, meeting["meeting_id"]), "sms")
        )

    await eventually(sms_sent, timeout=30)
    notify = services["notify"]
    async with notify.client(TOKEN) as staff:
        given = (
            await staff.get("/api/notify/sms-consents", params={"phone": erika["phone"]})
        ).json()
    assert given["given_at"] is not None
    assert "sms_consent" in given["given_how"]

    assert await inbound(notify, erika["phone"], "Stop", secret="wrong") == 401
    assert await inbound(notify, erika["phone"], "Danke, bis dann") == 200
    assert await inbound(notify, erika["phone"], "STOP") == 200

    async with services["booking"].client(TOKEN) as staff:
        cancelled = await staff.post(
            f"/api/booking/meetings/{meeting['meeting_id']}/cancel", json={}
        )
        assert cancelled.is_success, cancelled.text

    async def cancel_planned() -> bool:
        rows = await deliveries_for(services, meeting["meeting_id"])
        emails = [d for d in mine(rows, "email") if d["event_type"] == "booking.meeting.cancelled"]
        return any(d["status"] == "sent" for d in emails)

    await eventually(cancel_planned, timeout=30)
    sms = mine(await deliveries_for(services, meeting["meeting_id"]), "sms")
    assert {d["status"] for d in sms if d["event_type"] == "booking.meeting.cancelled"} == {
        "withdrawn"
    }
    assert [d["status"] for d in sms if d["event_type"] == "booking.meeting.confirmed"] == ["sent"]
    async with notify.client(TOKEN) as staff:
        record = (
            await staff.get("/api/notify/sms-consents", params={"phone": erika["phone"]})
        ).json()
    assert record["withdrawn_how"].startswith("SMS STOP")


async def test_staff_withdraw_consent_for_a_number_and_bad_numbers_are_named(
    services: dict[str, RunningService],
) -> None:
    async with services["notify"].client(TOKEN) as staff:
        withdrawn = await staff.post(
            "/api/notify/sms-consents/withdrawals", json={"phone": "0231 9876543"}
        )
        record = await staff.get("/api/notify/sms-consents", params={"phone": "+492319876543"})
        bad = await staff.post(
            "/api/notify/sms-consents/withdrawals", json={"phone": "kein Telefon"}
        )
    assert withdrawn.json() == {"withdrawn": True, "stopped": 0}
    assert record.json()["withdrawn_how"].startswith("staff:")
    assert bad.status_code == 422
    assert "phone" in bad.text


async def test_a_failed_sms_to_a_withdrawn_number_is_not_resent(
    services: dict[str, RunningService],
) -> None:
    erika = person()
    meeting = await arrange_a_meeting(services, erika, f"co-resend-{erika['contact_id']}")

    async def sent_sms() -> list[Any]:
        rows = await deliveries_for(services, meeting["meeting_id"])
        return [
            d
            for d in rows
            if d["contact_id"] == erika["contact_id"]
            and d["channel"] == "sms"
            and d["status"] == "sent"
        ]

    async def any_sent() -> bool:
        return bool(await sent_sms())

    await eventually(any_sent, timeout=30)
    [sms, *_] = await sent_sms()
    notify = services["notify"]
    # As if the gateway had refused it for good: only failed or dead deliveries may be resent.
    await notify.runtime.pool.execute(
        "UPDATE deliveries SET status = 'failed' WHERE delivery_id = $1", sms["delivery_id"]
    )
    async with notify.client(TOKEN) as staff:
        withdrawn = await staff.post(
            "/api/notify/sms-consents/withdrawals", json={"phone": erika["phone"]}
        )
        assert withdrawn.is_success, withdrawn.text
        refused = await staff.post(f"/api/notify/deliveries/{sms['delivery_id']}/resend")
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "withdrawn consent" in refused.json()["detail"]
    status = await notify.runtime.pool.fetchval(
        "SELECT status FROM deliveries WHERE delivery_id = $1", sms["delivery_id"]
    )
    assert status == "failed"

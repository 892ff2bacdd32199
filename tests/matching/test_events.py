"""matching's consumer of booking events: feedback, reopened needs, and bad events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.matching.app import build
from services.matching.settings import MatchingSettings
from shared.events.base import Envelope, wrap
from shared.events.booking import (
    AttendeeResponse,
    FeedbackGiven,
    FeedbackOutcome,
    MeetingDeclined,
)
from shared.events.common import PartyKind
from shared.events.deadletter import EventDeadLettered
from shared.events.streams import MATCHING_ON_BOOKING
from tests.matching.sample import BAUSTOFF, CHAT_NEED, PROVIDERS
from tests.notify.test_delivery import details
from tests.support.harness import RunningService, eventually, in_process, nats_client, publish
from tests.support.streams import read_all
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
TOKEN = "staff-secret"


@pytest.fixture
async def matching(stack: StackInfo) -> AsyncIterator[RunningService]:
    settings = MatchingSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        staff_token=TOKEN,  # type: ignore[arg-type]
        static_token_enabled=True,
        db_schema=f"matching_{uuid.uuid4().hex[:8]}",
    )
    async with in_process(build(settings)) as running, running.client(TOKEN) as staff:
        assert (await staff.put("/api/matching/companies/co-bau", json=BAUSTOFF)).is_success
        for provider_id, body in PROVIDERS.items():
            assert (await staff.put(f"/api/matching/providers/{provider_id}", json=body)).is_success
        assert (await staff.put("/api/matching/needs/n1", json=CHAT_NEED)).is_success
        yield running


async def provider_row(matching: RunningService, provider_id: str) -> dict[str, float]:
    row = await matching.runtime.pool.fetchrow(
        "SELECT quality, booked, ratings FROM providers WHERE provider_id = $1", provider_id
    )
    assert row is not None
    return dict(row)


async def test_ratings_and_later_outcomes_move_the_quality_signal(
    matching: RunningService, stack: StackInfo
) -> None:
    feedback = [
        FeedbackGiven(
            meeting_id="m1", match_id="x", company_id="co-bau", provider_id="p-chat",
            given_by=PartyKind.COMPANY, rating=4,
        ),
        FeedbackGiven(
            meeting_id="m1", match_id="x", company_id="co-bau", provider_id="p-chat",
            given_by=PartyKind.COMPANY, outcome=FeedbackOutcome.PROJECT_STARTED,
        ),
        FeedbackGiven(
            meeting_id="m2", match_id="y", company_id="co-bau", provider_id="p-shop",
            given_by=PartyKind.COMPANY, rating=1, outcome=FeedbackOutcome.NO_FOLLOW_UP,
        ),
    ]  # fmt: skip
    async with nats_client(stack.nats_url) as client:
        for event in feedback:
            await publish(client, wrap(event, source="booking"))

    async def learned() -> bool:
        chat, shop = await provider_row(matching, "p-chat"), await provider_row(matching, "p-shop")
        return chat["ratings"] == 2 and shop["ratings"] == 2

    await eventually(learned)
    assert (await provider_row(matching, "p-chat"))["quality"] > 0.5
    assert (await provider_row(matching, "p-shop"))["quality"] < 0.5


async def test_a_meeting_booking_gave_up_on_reopens_the_need(
    matching: RunningService, stack: StackInfo
) -> None:
    async with matching.client(TOKEN) as staff:
        proposals = (await staff.post("/api/matching/needs/n1/match")).json()
        assert await staff.post(f"/api/matching/proposals/{proposals[0]['proposal_id']}/accept")
    assert (await provider_row(matching, "p-chat"))["booked"] == 1
    meeting = details().model_copy(update={"need_id": "n1"})
    company, provider = meeting.attendees
    provider = provider.model_copy(update={"party_id": "p-chat", "party_kind": PartyKind.PROVIDER})
    meeting = meeting.model_copy(update={"attendees": (company, provider)})
    declined = MeetingDeclined(
        meeting=meeting,
        contact_id=company.contact.contact_id,
        party_kind=PartyKind.COMPANY,
        response=AttendeeResponse.DECLINED,
        declines=2,
        match_reopened=True,
    )
    async with nats_client(stack.nats_url) as client:
        await publish(client, wrap(declined, source="booking"))

    async def reopened() -> bool:
        status = await matching.runtime.pool.fetchval(
            "SELECT status FROM needs WHERE need_id = 'n1'"
        )
        return bool(status == "open")

    await eventually(reopened)
    assert (await provider_row(matching, "p-chat"))["booked"] == 0


async def test_a_bad_event_is_dead_lettered_with_its_reason_and_the_next_one_handled(
    matching: RunningService, stack: StackInfo
) -> None:
    bad = wrap(
        FeedbackGiven(
            meeting_id="bad", match_id="x", company_id="co-bau", provider_id="p-chat",
            given_by=PartyKind.COMPANY, rating=3,
        ),
        source="booking",
    )  # fmt: skip
    body = bad.to_bytes().replace(b'"rating":3', b'"rating":9')
    good = wrap(
        FeedbackGiven(
            meeting_id="good", match_id="x", company_id="co-bau", provider_id="p-shop",
            given_by=PartyKind.COMPANY, rating=4,
        ),
        source="booking",
    )  # fmt: skip
    async with nats_client(stack.nats_url) as client:
        await publish(client, bad, body=body)
        await publish(client, good)

        async def dead_lettered() -> list[EventDeadLettered]:
            messages = await read_all(
                client, "DEADLETTER", MATCHING_ON_BOOKING.dead_letter_subject, idle=0.2
            )
            letters = [
                Envelope[EventDeadLettered].model_validate_json(m.data).data for m in messages
            ]
            return [letter for letter in letters if letter.original_msg_id == str(bad.id)]

        async def found() -> bool:
            return bool(await dead_lettered())

        await eventually(found)
        [letter] = await dead_lettered()
    assert "rating" in letter.reason
    assert letter.deliveries == 1

    async def good_handled() -> bool:
        return (await provider_row(matching, "p-shop"))["ratings"] == 1

    await eventually(good_handled)
    assert datetime.now(UTC) - letter.dead_lettered_at < timedelta(minutes=1)

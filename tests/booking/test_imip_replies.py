"""Calendar clients' answers read from a real IMAP server (pymap) into RSVP state."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from imapclient import IMAPClient
from pydantic import SecretStr

from services.booking.app import build
from services.booking.settings import BookingSettings
from shared.events.booking import (
    AttendeeResponded,
    InvitationRefreshed,
    MeetingConfirmed,
    MeetingDeclined,
)
from tests.booking.test_booking_flow import TOKEN, book_one, settings_for
from tests.booking.test_followup import events_of
from tests.support.calendar_checks import check_calendar_object
from tests.support.harness import RunningService, eventually, in_process
from tests.support.imip_samples import Answer, mail, other_mail
from werkbank.imap import ImapServer
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
ORGANIZER = "werkbank@wirtschaftsfoerderung-dortmund.de"


@pytest.fixture(scope="module")
def imap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImapServer]:
    server = ImapServer(tmp_path_factory.mktemp("imap") / "imap.log")
    server.start()
    yield server
    server.stop()


def booking_settings(stack: StackInfo, imap: ImapServer, schema: str) -> Any:
    return settings_for(stack, schema).model_copy(
        update={
            "imap_host": imap.host,
            "imap_port": imap.port,
            "imap_user": imap.user,
            "imap_password": SecretStr(imap.password),
            "imap_tls": False,
            "imap_poll_seconds": 0.3,
        }
    )


@pytest.fixture(scope="module")
async def booking(stack: StackInfo, imap: ImapServer) -> AsyncIterator[RunningService]:
    schema = f"booking_{uuid.uuid4().hex[:8]}"
    async with in_process(build(booking_settings(stack, imap, schema))) as running:
        yield running


def deliver(imap: ImapServer, *mails: bytes) -> None:
    """As the mail server does: the mails land in the organizer's INBOX (IMAP APPEND)."""
    with IMAPClient(imap.host, port=imap.port, ssl=False) as client:
        client.login(imap.user, imap.password)
        for raw in mails:
            client.append("INBOX", raw)


def message_ids_in(imap: ImapServer, folder: str) -> set[str]:
    with IMAPClient(imap.host, port=imap.port, ssl=False) as client:
        client.login(imap.user, imap.password)
        client.select_folder(folder, readonly=True)
        found = client.fetch(client.search(["ALL"]), [b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    return {
        data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[1].strip()
        for data in found.values()
    }


async def answers(booking: RunningService, meeting_id: str) -> dict[str, Any]:
    async with booking.client(TOKEN) as staff:
        response = await staff.get(f"/api/booking/meetings/{meeting_id}/answers")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def answer_to(meeting: MeetingConfirmed, index: int = 0, **changes: Any) -> Answer:
    attendee = meeting.meeting.attendees[index]
    base = Answer(
        uid=meeting.calendar.uid,
        attendee=str(attendee.contact.email),
        attendee_name=attendee.contact.name,
        organizer=ORGANIZER,
        start=meeting.meeting.start,
        sequence=meeting.calendar.sequence,
    )
    return base.but(**changes)


async def counted(booking: RunningService, outcome: str) -> float:
    """The mails counted with ``outcome`` (all booking replicas of this test process)."""
    async with booking.client() as anyone:
        metrics = (await anyone.get("/metrics")).text
    prefix = f'werkbank_booking_inbound_mails_total{{outcome="{outcome}"}} '
    found = [line for line in metrics.splitlines() if line.startswith(prefix)]
    return float(found[0].removeprefix(prefix)) if found else 0.0


async def outcomes(booking: RunningService) -> dict[str, int]:
    async with booking.runtime.pool.acquire() as conn:
        rows = await conn.fetch("SELECT outcome, count(*) AS n FROM inbound_mails GROUP BY 1")
    return {row["outcome"]: row["n"] for row in rows}


async def test_replies_from_four_clients_become_answers_and_a_decline_moves_the_meeting(
    booking: RunningService, stack: StackInfo, imap: ImapServer
) -> None:
    meeting = await book_one(stack, f"p-{uuid.uuid4().hex[:6]}")
    meeting_id = meeting.meeting.meeting_id
    petra, aylin = answer_to(meeting, 0), answer_to(meeting, 1)
    accepted = petra.but(partstat="ACCEPTED")
    deliver(imap, mail("outlook", accepted), mail("google", aylin.but(partstat="TENTATIVE")))

    async def both_answered() -> bool:
        return len((await answers(booking, meeting_id))["current"]) == 2

    await eventually(both_answered)
    current = (await answers(booking, meeting_id))["current"]
    assert sorted(a["response"] for a in current) == ["accepted", "tentative"]
    duplicates = await counted(booking, "duplicate")

    deliver(imap, mail("outlook", accepted))  # the same mail again: handled once
    deliver(imap, mail("apple", petra.but(partstat="DECLINED")))
    [declined] = await wait_for_events(stack, MeetingDeclined, meeting_id)
    assert declined.contact_id == meeting.meeting.attendees[0].contact.contact_id
    assert declined.next_start is not None  # the decline flow offered the next slot

    # Thunderbird answers the first version after the move: recorded, overrides nothing.
    deliver(imap, mail("thunderbird", aylin.but(partstat="DECLINED", sequence=0)))

    async def outdated_recorded() -> bool:
        history = (await answers(booking, meeting_id))["history"]
        return any(h["outdated"] for h in history)

    await eventually(outdated_recorded)
    after = await answers(booking, meeting_id)
    assert after["sequence"] == 1
    assert after["current"] == []  # no answer to the moved meeting yet
    assert [(h["response"], h["channel"], h["outdated"]) for h in after["history"]] == [
        ("accepted", "imip", False),
        ("tentative", "imip", False),
        ("declined", "imip", False),
        ("declined", "imip", True),
    ]
    responded = await events_of(stack, AttendeeResponded, meeting_id)
    assert sorted(e.response.value for e in responded) == ["accepted", "declined", "tentative"]
    assert len(await events_of(stack, MeetingDeclined, meeting_id)) == 1
    assert await counted(booking, "duplicate") == duplicates + 1


async def wait_for_events(stack: StackInfo, model: Any, meeting_id: str) -> list[Any]:
    async def arrived() -> bool:
        return bool(await events_of(stack, model, meeting_id))

    await eventually(arrived)
    found: list[Any] = await events_of(stack, model, meeting_id)
    return found


async def test_refresh_sends_the_invitation_again_and_counter_is_kept_for_staff(
    booking: RunningService, stack: StackInfo, imap: ImapServer
) -> None:
    meeting = await book_one(stack, f"p-{uuid.uuid4().hex[:6]}")
    meeting_id = meeting.meeting.meeting_id
    aylin = answer_to(meeting, 1)
    deliver(
        imap,
        mail("thunderbird", aylin, "refresh"),
        mail("outlook", answer_to(meeting, 0, comment="Lieber nachmittags"), "counter"),
    )
    [resent] = await wait_for_events(stack, InvitationRefreshed, meeting_id)
    assert resent.contact_id == meeting.meeting.attendees[1].contact.contact_id
    [invitation] = resent.calendar.invitations
    assert invitation.contact_id == resent.contact_id
    assert resent.calendar.sequence == meeting.calendar.sequence
    check_calendar_object(invitation.ics)

    async def proposed() -> bool:
        return bool((await answers(booking, meeting_id))["proposals"])

    await eventually(proposed)
    [proposal] = (await answers(booking, meeting_id))["proposals"]
    assert proposal["comment"] == "Lieber nachmittags"
    assert proposal["proposed_start"] is not None


async def test_bad_mails_change_nothing_are_counted_by_reason_and_plain_mail_is_left_alone(
    booking: RunningService, stack: StackInfo, imap: ImapServer
) -> None:
    meeting = await book_one(stack, f"p-{uuid.uuid4().hex[:6]}")
    meeting_id = meeting.meeting.meeting_id
    petra = answer_to(meeting, 0)
    before = await outcomes(booking)
    bad = {
        "not_icalendar": other_mail("not_icalendar", petra),
        "no_meeting": mail("google", petra.but(uid="nobody@elsewhere")),
        "not_attendee": mail("outlook", petra.but(sender="mallory@example.net")),
        "forged_organizer": mail("apple", petra.but(organizer="boss@example.net")),
    }
    plain = petra.but()
    deliver(imap, *bad.values(), other_mail("plain_mail", plain))

    async def all_counted() -> bool:
        now = await outcomes(booking)
        return all(now.get(reason, 0) > before.get(reason, 0) for reason in [*bad, "not_a_reply"])

    await eventually(all_counted)
    assert (await answers(booking, meeting_id))["history"] == []
    assert await events_of(stack, AttendeeResponded, meeting_id) == []
    async with booking.client() as anyone:
        metrics = (await anyone.get("/metrics")).text
    for reason in bad:
        assert f'werkbank_booking_inbound_mails_total{{outcome="{reason}"}}' in metrics
    processed_folder = booking.runtime.settings.imap_processed_folder  # type: ignore[attr-defined]
    inbox, processed = message_ids_in(imap, "INBOX"), message_ids_in(imap, processed_folder)
    assert f"<{plain.message_id}>" in inbox  # not for booking: left where it is
    assert f"<{plain.message_id}>" not in processed
    for message_id in message_ids(bad):
        assert f"<{message_id}>" in processed
        assert f"<{message_id}>" not in inbox


def message_ids(mails: dict[str, bytes]) -> list[str]:
    return [
        line.split(b":", 1)[1].strip().strip(b"<>").decode()
        for raw in mails.values()
        for line in raw.split(b"\r\n")
        if line.lower().startswith(b"message-id:")
    ]


async def test_two_replicas_and_a_lost_cursor_apply_each_reply_once(
    booking: RunningService, stack: StackInfo, imap: ImapServer
) -> None:
    settings = booking.runtime.settings
    assert isinstance(settings, BookingSettings)
    async with in_process(build(settings)) as second:
        meeting = await book_one(stack, f"p-{uuid.uuid4().hex[:6]}")
        meeting_id = meeting.meeting.meeting_id
        changes = [
            answer_to(meeting, 0, partstat=("ACCEPTED", "TENTATIVE")[i % 2]) for i in range(10)
        ]
        deliver(imap, *(mail("google", change) for change in changes))

        async def all_applied() -> bool:
            return len((await answers(second, meeting_id))["history"]) == 10

        await eventually(all_applied)
        duplicates = await counted(booking, "duplicate")
        # As if both had crashed after handling the mails but before moving them and the
        # cursor on: the same mails are in the folder again, and read from the start.
        async with booking.runtime.pool.acquire() as conn:
            await conn.execute("DELETE FROM mailbox_cursors")
        deliver(imap, *(mail("google", change) for change in changes))

        async def read_again() -> bool:
            return await counted(booking, "duplicate") >= duplicates + len(changes)

        await eventually(read_again)
    assert len((await answers(booking, meeting_id))["history"]) == 10
    responded = await events_of(stack, AttendeeResponded, meeting_id)
    assert [e.response.value for e in responded] == ["accepted", "tentative"] * 5

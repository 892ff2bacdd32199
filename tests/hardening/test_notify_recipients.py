"""One bad recipient fails its own delivery alone: an unknown time zone is recorded as failed
with its reason while the others are invited, and a name with CR/LF and "Bcc:" cannot inject
a header (the name is encoded on one line); the deliveries table says what was sent."""

from __future__ import annotations

from typing import Any

import pytest

from services.notify.domain.messages import Email, imip_message, mailbox, rendered
from shared.events.booking import Attendee, MeetingDetails
from shared.events.common import Contact, PartyKind
from tests.hardening.conftest import TOKEN
from tests.notify.test_delivery import NOON, confirmed, details
from tests.support.harness import RunningService, eventually, nats_client, publish
from werkbank.sinks import SmtpSink
from werkbank.stack import StackInfo

INJECTED = "Eve\r\nBcc: victim@example.org\r\nX-Evil: 1"


def with_attendees(meeting: MeetingDetails, *contacts: Contact) -> MeetingDetails:
    extra = tuple(
        Attendee(party_id="p-x", party_kind=PartyKind.PROVIDER, party_name="X", contact=c)
        for c in contacts
    )
    return meeting.model_copy(update={"attendees": (*meeting.attendees, *extra)})


async def deliveries(notify: RunningService, meeting_id: str) -> list[dict[str, Any]]:
    async with notify.client(TOKEN) as staff:
        answer = await staff.get("/api/notify/deliveries", params={"meeting_id": meeting_id})
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


@pytest.mark.integration
async def test_one_recipients_bad_zone_or_name_fails_only_their_delivery(
    notify: RunningService, stack: StackInfo, smtp: SmtpSink
) -> None:
    meeting = details()
    mars = Contact(
        contact_id=f"{meeting.meeting_id}-mars",
        name="Mara Mars",
        email=f"mars.{meeting.meeting_id}@example.org",
        timezone="Mars/Olympus_Mons",
    )
    eve = Contact(
        contact_id=f"{meeting.meeting_id}-eve",
        name=INJECTED,
        email=f"eve.{meeting.meeting_id}@example.org",
    )
    meeting = with_attendees(meeting, mars, eve)
    async with nats_client(stack.nats_url) as client:
        await publish(client, confirmed(meeting))

        async def settled() -> bool:
            rows = await deliveries(notify, meeting.meeting_id)
            return len(rows) == 5 and all(r["status"] in {"sent", "failed"} for r in rows)

        await eventually(settled)
    by_contact = {
        (r["contact_id"], r["channel"]): r for r in await deliveries(notify, meeting.meeting_id)
    }
    failed = by_contact[(mars.contact_id, "email")]
    assert failed["status"] == "failed"
    assert "time zone" in failed["last_error"]
    sent = [r for r in by_contact.values() if r["status"] == "sent"]
    assert len(sent) == 4, "both original attendees (email and SMS) and Eve"
    received = {str(m["To"]): m for m in smtp.messages() if meeting.meeting_id in str(m["To"])}
    assert not any("mars." in to for to in received)
    [eves] = [m for to, m in received.items() if "eve." in to]
    assert "Bcc" not in eves
    assert "X-Evil" not in eves
    assert "Eve Bcc: victim@example.org X-Evil: 1" in str(eves["To"])


def test_a_display_name_is_one_encoded_line_whatever_it_holds() -> None:
    assert mailbox('Jörg "JJ" Weiß', "j@example.org") == (
        "=?utf-8?b?SsO2cmcgIkpKIiBXZWnDnw==?= <j@example.org>"
    )
    assert mailbox(INJECTED, "e@example.org") == (
        '"Eve Bcc: victim@example.org X-Evil: 1" <e@example.org>'
    )
    email = Email(
        sender_name="Werkbank\n",
        sender="w@example.org",
        recipient_name=INJECTED,
        recipient="e@example.org",
        subject="Einladung\r\nBcc: x@example.org",
        text="t",
        html="<p>t</p>",
        ics="BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
        message_id="<m@werkbank.local>",
        reply_to=None,
        date=NOON,
    )
    head = rendered(imip_message(email)).split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n") if not line[:1].isspace()]
    assert b"Bcc" not in names
    assert b"X-Evil" not in names

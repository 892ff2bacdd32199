"""What a calendar client's answer does: the same as an answer through the RSVP page.

REPLY applies PARTSTAT (ACCEPTED, TENTATIVE, DECLINED: the decline flow) to the version named
by SEQUENCE (an older one is recorded and overrides nothing); REFRESH sends the current version
again; COUNTER is kept for staff as a proposed new time. A mail that cannot be matched to a
meeting and one of its attendees changes nothing and is counted by its reason.
"""

from __future__ import annotations

import email.parser
import email.policy
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from prometheus_client import Counter

from services.booking import repository, responses
from services.booking.domain import rsvp
from services.booking.domain.imip import (
    BadReplyError,
    CalendarReply,
    NotAReplyError,
    mail_key,
    read_reply,
)
from services.booking.inbound import repository as inbound_repository
from services.booking.invitations import build_calendar, calendar_address
from services.booking.service import SOURCE
from services.booking.settings import BookingSettings
from shared.events.base import wrap
from shared.events.booking import (
    Attendee,
    AttendeeResponse,
    CalendarMethod,
    InvitationRefreshed,
    MeetingDetails,
)
from shared.messaging import enqueue

log = logging.getLogger(__name__)
INBOUND_MAILS = Counter(
    "werkbank_booking_inbound_mails_total",
    "Mails read from the organizer mailbox, by what came of them",
    ["outcome"],
)
# Outcomes that leave a mail as it is in the mailbox: it was not meant for booking.
LEFT_ALONE = frozenset({"not_a_reply"})


@dataclass(frozen=True)
class Handled:
    outcome: str
    meeting_id: str | None = None
    left_alone: bool = False  # not for booking: the mail stays as it is in the mailbox


def key_of(raw: bytes) -> str:
    headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
    return mail_key(headers, raw)


async def handle_mail(
    conn: asyncpg.Connection,
    raw: bytes,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
) -> Handled:
    """Handle one mail once: a mail another replica (or this one, before a crash) already
    handled is a ``duplicate`` and changes nothing."""
    try:
        reply: CalendarReply | Handled = read_reply(raw)
    except NotAReplyError:
        reply = Handled("not_a_reply")
    except BadReplyError as exc:
        reply = Handled(exc.reason)
    key = reply.mail_key if isinstance(reply, CalendarReply) else key_of(raw)
    if not await inbound_repository.claim(conn, key):
        before = await inbound_repository.outcome_of(conn, key)
        return Handled("duplicate", left_alone=before in LEFT_ALONE)
    if isinstance(reply, CalendarReply):
        handled = await _apply(conn, reply, settings, secret, now)
    else:
        handled = reply
    await inbound_repository.settle(conn, key, handled.outcome, handled.meeting_id)
    if handled.outcome in LEFT_ALONE:
        handled = Handled(handled.outcome, left_alone=True)
    log.info(
        "calendar answer from the mailbox",
        extra={"outcome": handled.outcome, "meeting_id": handled.meeting_id},
    )
    return handled


def _attendee_for(details: MeetingDetails, address: str) -> Attendee | None:
    return next(
        (
            a
            for a in details.attendees
            if a.contact.email and calendar_address(str(a.contact.email)).lower() == address
        ),
        None,
    )


async def _apply(
    conn: asyncpg.Connection,
    reply: CalendarReply,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
) -> Handled:
    row = await repository.meeting_by_uid(conn, reply.uid, for_update=True)
    if row is None:
        return Handled("no_meeting")
    meeting_id = row["meeting_id"]
    details = MeetingDetails.model_validate(row["details"])
    if reply.organizer != calendar_address(str(details.organizer.email)).lower():
        return Handled("forged_organizer", meeting_id)
    attendee = _attendee_for(details, reply.attendee)
    if attendee is None or reply.sender != reply.attendee:
        return Handled("not_attendee", meeting_id)
    if reply.sequence > row["sequence"]:
        return Handled("unknown_version", meeting_id)
    if reply.method == "REFRESH":
        await _send_again(conn, row, details, attendee, now)
        return Handled("refresh", meeting_id)
    contact_id = attendee.contact.contact_id
    if reply.method == "COUNTER":
        await inbound_repository.propose(
            conn,
            meeting_id,
            contact_id,
            reply.sequence,
            reply.proposed_start,
            reply.proposed_end,
            reply.comment,
        )
        return Handled("counter", meeting_id)
    return await _answer(conn, reply, row, contact_id, settings, secret, now)


async def _answer(
    conn: asyncpg.Connection,
    reply: CalendarReply,
    row: dict[str, Any],
    contact_id: str,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
) -> Handled:
    meeting_id = row["meeting_id"]
    claim = rsvp.RsvpClaim(meeting_id, contact_id, now, reply.sequence)
    try:
        answered = await responses.respond(
            conn,
            claim,
            AttendeeResponse(reply.partstat or ""),
            reply.comment,
            settings,
            secret,
            now,
            channel="imip",
            locked=row,
        )
    except responses.CancelledMeetingError:
        return Handled("cancelled", meeting_id)
    outcome = "applied" if answered.outcome == "recorded" else answered.outcome
    return Handled(outcome, meeting_id)


async def _send_again(
    conn: asyncpg.Connection,
    row: dict[str, Any],
    details: MeetingDetails,
    attendee: Attendee,
    now: datetime,
) -> None:
    """The current version of the invitation, again, to the attendee who asked for it."""
    method = CalendarMethod.CANCEL if row["status"] == "cancelled" else CalendarMethod.REQUEST
    calendar = build_calendar(details, row["uid"], row["sequence"], method, now)
    mine = tuple(i for i in calendar.invitations if i.contact_id == attendee.contact.contact_id)
    event = InvitationRefreshed(
        meeting=details,
        calendar=calendar.model_copy(update={"invitations": mine}),
        contact_id=attendee.contact.contact_id,
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"match:{details.match_id}"))

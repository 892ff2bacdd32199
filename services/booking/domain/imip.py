"""Reading a calendar client's answer (iMIP, RFC 6047; iTIP, RFC 5546) from a raw email. Pure.

Clients put the calendar object in different places: Outlook as a ``text/calendar;
method=REPLY`` part, Google and Thunderbird also as an ``invite.ics`` attachment, Apple Mail
only as an attachment. The first calendar part with a METHOD is the one read.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.utils import parseaddr

from icalendar import Calendar

from shared.addresses import InvalidAddressError, canonical_address

ANSWERING_METHODS = ("REPLY", "REFRESH", "COUNTER")
PARTSTATS = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined"}


class NotAReplyError(Exception):
    """The mail carries no calendar answer (an ordinary mail, or a forwarded invitation)."""


class BadReplyError(ValueError):
    """A calendar answer that cannot be used; ``reason`` is one of a few fixed words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CalendarReply:
    mail_key: str  # the Message-ID, or a digest of the mail when it has none
    method: str  # REPLY, REFRESH or COUNTER
    uid: str
    sequence: int
    attendee: str  # canonical address, lower case
    sender: str  # the From address, canonical, lower case
    organizer: str | None
    partstat: str | None  # accepted, tentative, declined (REPLY only)
    proposed_start: datetime | None = None  # COUNTER
    proposed_end: datetime | None = None
    comment: str = ""


def mail_key(message: Message, raw: bytes) -> str:
    message_id = str(message.get("Message-ID", "")).strip()
    return message_id[:250] if message_id else "sha256:" + hashlib.sha256(raw).hexdigest()


def _address(value: object) -> str:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    try:
        return canonical_address(text).lower()
    except InvalidAddressError as exc:
        raise BadReplyError("malformed") from exc


def _calendar_texts(message: Message) -> list[str]:
    texts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        if content_type in ("text/calendar", "application/ics") or filename.endswith(".ics"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "utf-8"
                texts.append(payload.decode(charset, errors="replace"))
    return texts


_METHOD = re.compile(r"^METHOD:([A-Za-z-]+)\r?$", re.MULTILINE)
_VTIMEZONE = re.compile(r"^BEGIN:VTIMEZONE\r?\n.*?^END:VTIMEZONE\r?\n", re.MULTILINE | re.DOTALL)


def _without_unused_zones(text: str) -> str:
    """A REPLY or REFRESH is read for no time of day: its VTIMEZONEs are dropped unparsed
    (parsing them was a third of the work of reading an answer). A COUNTER keeps them."""
    method = _METHOD.search(text)
    if method is None or method.group(1).upper() == "COUNTER":
        return text
    return _VTIMEZONE.sub("", text)


def read_reply(raw: bytes) -> CalendarReply:
    """The calendar answer in ``raw``; NotAReplyError or BadReplyError(reason) otherwise."""
    # The parts through the compat32 policy: the default policy builds a header object each
    # time a part's headers are read, which made reading a mail cost more than handling it.
    # The top-level headers (From, Message-ID) through the default one: it decodes them.
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
    texts = _calendar_texts(message)
    if not texts:
        raise NotAReplyError
    try:
        calendar = Calendar.from_ical(_without_unused_zones(texts[0]))
    except (ValueError, IndexError, KeyError) as exc:
        raise BadReplyError("not_icalendar") from exc
    method = str(calendar.get("METHOD", "")).upper()
    if method not in ANSWERING_METHODS:
        raise NotAReplyError
    _, sender = parseaddr(str(headers.get("From", "")))
    if not sender:
        raise BadReplyError("malformed")
    return _reply_from(calendar, method, mail_key(headers, raw), _address(sender))


def _reply_from(calendar: Calendar, method: str, key: str, sender: str) -> CalendarReply:
    events = calendar.walk("VEVENT")
    if not events or "UID" not in events[0]:
        raise BadReplyError("malformed")
    event = events[0]
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees] if attendees else []
    if len(attendees) != 1:  # RFC 5546: a REPLY names exactly the one who answers
        raise BadReplyError("malformed")
    attendee = attendees[0]
    partstat = None
    if method == "REPLY":
        partstat = PARTSTATS.get(str(attendee.params.get("PARTSTAT", "")).upper())
        if partstat is None:
            raise BadReplyError("unsupported_partstat")
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError) as exc:
        raise BadReplyError("malformed") from exc
    organizer = event.get("ORGANIZER")
    return CalendarReply(
        mail_key=key,
        method=method,
        uid=str(event["UID"]),
        sequence=sequence,
        attendee=_address(attendee),
        sender=sender,
        organizer=_address(organizer) if organizer else None,
        partstat=partstat,
        proposed_start=_moment(event, "DTSTART") if method == "COUNTER" else None,
        proposed_end=_moment(event, "DTEND") if method == "COUNTER" else None,
        comment=str(event.get("COMMENT", ""))[:1000],
    )


def _moment(event: object, name: str) -> datetime | None:
    value = getattr(event, "get", lambda _: None)(name)
    moment = getattr(value, "dt", None)
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment
    return None

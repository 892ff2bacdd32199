"""Building what notify sends: iMIP emails and SMS texts. Pure functions, no I/O."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from shared import addresses
from shared.contacts import single_line

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")


class InvalidNumberError(ValueError):
    pass


InvalidAddressError = addresses.InvalidAddressError


def ascii_address(address: str) -> str:
    """The address as SMTP without SMTPUTF8 needs it, the same form booking writes into the
    ATTENDEE line: an internationalised domain in punycode."""
    return addresses.canonical_address(address)


def e164(number: str, region: str = "DE") -> str:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumberError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumberError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class SmsLength:
    encoding: str
    units: int
    segments: int


def sms_length(text: str) -> SmsLength:
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return SmsLength("GSM-7", units, 1 if units <= 160 else -(-units // 153))
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return SmsLength("UCS-2", units, 1 if units <= 70 else -(-units // 67))


def next_allowed_time(now: datetime, tz: str, quiet_start: time, quiet_end: time) -> datetime:
    """``now`` if outside quiet hours in the recipient's zone, else when they end."""
    local = now.astimezone(ZoneInfo(tz))
    current = local.time()
    in_quiet = (
        (current >= quiet_start or current < quiet_end)
        if quiet_start > quiet_end
        else (quiet_start <= current < quiet_end)
    )
    if not in_quiet:
        return now
    day = local.date() if current < quiet_end else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet_end, tzinfo=ZoneInfo(tz))


def message_id(meeting_id: str, sequence: int, recipient: str, kind: str, domain: str) -> str:
    """Deterministic, so that a resent message is recognisable as the same one."""
    key = f"werkbank:{kind}:{meeting_id}:{sequence}:{recipient.lower()}"
    return f"<{uuid.uuid5(uuid.NAMESPACE_URL, key)}@{domain}>"


_METHOD = re.compile(r"^METHOD:(\w+)\r?$", re.MULTILINE)


def calendar_method(ics: str) -> str:
    found = _METHOD.search(ics)
    if not found:
        raise ValueError("the calendar object has no METHOD")
    return found.group(1).upper()


@dataclass(frozen=True)
class Email:
    sender_name: str
    sender: str
    recipient_name: str
    recipient: str
    subject: str
    text: str
    html: str
    ics: str
    message_id: str
    reply_to: str | None
    date: datetime


ATTACHMENT_NAME = "invite.ics"


def mailbox(name: str, address: str) -> str:
    """``Name <address>`` for a header: the name on one line (no CR/LF can start a header of
    its own), quoted when it holds specials, RFC 2047-encoded when it is not ASCII."""
    return formataddr((single_line(name), ascii_address(address)), "utf-8")


_READABLE_UTF8 = Charset("utf-8")
_READABLE_UTF8.body_encoding = QP  # text stays readable in the raw message


def imip_message(mail: Email) -> Message:
    """multipart/mixed > (multipart/alternative > text, html, text/calendar) + invite.ics.

    Built with the compat32 MIME classes: the same tree as ``EmailMessage`` builds, at a
    fraction of the cost, which matters at hundreds of messages per second.
    """
    method = calendar_method(mail.ics)
    # Boundaries given, not searched for: "=_" never occurs in quoted-printable or base64.
    token = hashlib.sha256(mail.message_id.encode()).hexdigest()[:24]
    message = MIMEMultipart("mixed", boundary=f"=_werkbank_mixed_{token}")
    message["From"] = mailbox(mail.sender_name, mail.sender)
    message["To"] = mailbox(mail.recipient_name, mail.recipient)
    message["Subject"] = Header(single_line(mail.subject), "utf-8").encode()
    message["Date"] = format_datetime(mail.date)
    message["Message-ID"] = mail.message_id
    # Outlook shows the message as a meeting request (with its buttons) only with this header.
    message["Content-Class"] = "urn:content-classes:calendarmessage"
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    alternative = MIMEMultipart("alternative", boundary=f"=_werkbank_alternative_{token}")
    alternative.attach(MIMEText(mail.text, "plain", _READABLE_UTF8))  # type: ignore[arg-type]
    alternative.attach(MIMEText(mail.html, "html", _READABLE_UTF8))  # type: ignore[arg-type]
    calendar_part = MIMEText(mail.ics, "calendar", "utf-8")
    calendar_part.set_param("method", method)
    alternative.attach(calendar_part)
    message.attach(alternative)
    attachment = MIMEApplication(mail.ics.encode("utf-8"), "ics")
    attachment.set_param("name", ATTACHMENT_NAME)  # clients that ignore the disposition
    attachment.add_header("Content-Disposition", "attachment", filename=ATTACHMENT_NAME)
    message.attach(attachment)
    return message


class _ShortHeadersAsTheyAre(Compat32):
    """compat32, as aiosmtplib flattens a message with, except that a short ASCII header is
    written as it is: the result is the same, and the stdlib's ``Header`` folding, which it
    skips, was a third of the cost of rendering an invitation."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) + 2 <= (self.max_line_length or 78)
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        folded: str = super()._fold(name, value, sanitize)  # type: ignore[misc]
        return folded


_RENDERING = _ShortHeadersAsTheyAre()


def rendered(message: Message) -> bytes:
    """The message as it goes over SMTP (the bytes ``aiosmtplib.email.flatten_message`` gives)."""
    with io.BytesIO() as out:
        BytesGenerator(out, policy=_RENDERING).flatten(message)
        return out.getvalue()

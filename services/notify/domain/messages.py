"""Building what notify sends: iMIP emails and SMS texts. Pure functions, no I/O."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from zoneinfo import ZoneInfo

import phonenumbers

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")


class InvalidNumberError(ValueError):
    pass


class InvalidAddressError(ValueError):
    pass


def ascii_address(address: str) -> str:
    """The address as SMTP without SMTPUTF8 needs it: an internationalised domain in punycode."""
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        raise InvalidAddressError("not an email address")
    if not local.isascii():
        raise InvalidAddressError("the mailbox name needs SMTPUTF8, which is not supported")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError as exc:
        raise InvalidAddressError("the domain is not a valid internationalised name") from exc


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


def imip_message(mail: Email) -> EmailMessage:
    """multipart/mixed > (multipart/alternative > text, html, text/calendar) + invite.ics."""
    method = calendar_method(mail.ics)
    message = EmailMessage()
    message["From"] = formataddr((mail.sender_name, ascii_address(mail.sender)))
    message["To"] = formataddr((mail.recipient_name, ascii_address(mail.recipient)))
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.date)
    message["Message-ID"] = mail.message_id
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message.make_mixed()
    alternative = EmailMessage()
    alternative.set_content(mail.text, subtype="plain", charset="utf-8")
    alternative.add_alternative(mail.html, subtype="html", charset="utf-8")
    calendar_part = EmailMessage()
    calendar_part.set_content(
        mail.ics.encode("utf-8"),
        maintype="text",
        subtype="calendar",
        cte="base64",
        params={"method": method, "charset": "UTF-8"},
    )
    alternative.attach(calendar_part)
    message.attach(alternative)
    attachment = EmailMessage()
    attachment.set_content(
        mail.ics.encode("utf-8"),
        maintype="application",
        subtype="ics",
        disposition="attachment",
        filename="invite.ics",
        cte="base64",
    )
    message.attach(attachment)
    return message

"""Contacts as they enter through an API: strict, so that bad data stops at the door.

Events keep the lenient ``Contact`` (a contact stored before these checks must not cost the
whole event); where contacts enter (staff APIs, imports) ``ContactIn`` refuses an unknown time
zone, an invalid phone number and control characters in names, each naming its field.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from pydantic import field_validator

from shared.events.common import Contact

BERLIN = ZoneInfo("Europe/Berlin")
# Control characters, and line and paragraph separators: none belongs in a name, and CR/LF in
# a display name would break an email's header block.
_FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp"}


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_known_timezone(name: str) -> bool:
    return name in known_timezones()


def zone_or_berlin(name: str) -> ZoneInfo:
    """The contact's zone for showing times; Europe/Berlin for a zone nobody knows."""
    if not is_known_timezone(name):
        return BERLIN
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return BERLIN


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in text)


def single_line(text: str) -> str:
    """``text`` with every control character or line break replaced by a space."""
    cleaned = "".join(
        " " if unicodedata.category(char) in _FORBIDDEN_CATEGORIES else char for char in text
    )
    return " ".join(cleaned.split())


def phone_in_e164(number: str, region: str = "DE") -> str:
    """The number in E.164; a national number is read as German. ValueError if invalid."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        msg = "not a phone number"
        raise ValueError(msg) from exc
    if not phonenumbers.is_valid_number(parsed):
        msg = "not a valid phone number"
        raise ValueError(msg)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


class ContactIn(Contact):
    """A contact from a staff API or an import: checked field by field."""

    @field_validator("name")
    @classmethod
    def _printable_name(cls, name: str) -> str:
        if has_control_characters(name):
            msg = "must not contain control characters or line breaks"
            raise ValueError(msg)
        if not name.strip():
            msg = "must not be blank"
            raise ValueError(msg)
        return name

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, timezone: str) -> str:
        if not is_known_timezone(timezone):
            msg = "not an IANA time zone (e.g. Europe/Berlin)"
            raise ValueError(msg)
        return timezone

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, phone: str | None) -> str | None:
        return None if phone is None else phone_in_e164(phone)

"""Building messages: addresses, numbers, SMS lengths and quiet hours (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from aiosmtplib.email import flatten_message

from services.notify.domain.messages import (
    Email,
    InvalidAddressError,
    InvalidNumberError,
    ascii_address,
    e164,
    imip_message,
    message_id,
    next_allowed_time,
    rendered,
    sms_length,
)


def test_an_internationalised_domain_is_sent_in_punycode() -> None:
    assert (
        ascii_address("sabine.wolf@reisebüro-11.example")
        == "sabine.wolf@xn--reisebro-11-yhb.example"
    )


def test_a_non_ascii_mailbox_name_is_refused_permanently() -> None:
    with pytest.raises(InvalidAddressError):
        ascii_address("jürgen@example.org")


def test_numbers_are_normalised_to_e164_and_nonsense_is_refused() -> None:
    assert e164("0231 1234567") == "+492311234567"
    with pytest.raises(InvalidNumberError):
        e164("12")


def test_sms_length_is_counted_per_encoding() -> None:
    assert sms_length("Termin am 02.06. um 10:00").encoding == "GSM-7"
    assert sms_length("x" * 161).segments == 2
    assert sms_length("Grüße 🙂").encoding == "UCS-2"
    assert sms_length("€" * 80).units == 160


def test_quiet_hours_delay_to_the_morning_in_the_recipients_zone() -> None:
    evening = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)  # 22:00 in Berlin
    allowed = next_allowed_time(evening, "Europe/Berlin", time(21), time(8))
    assert allowed.isoformat() == "2026-06-02T08:00:00+02:00"
    afternoon = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert next_allowed_time(afternoon, "Europe/Berlin", time(21), time(8)) == afternoon


def test_the_message_id_is_the_same_for_the_same_meeting_sequence_and_recipient() -> None:
    first = message_id("m1", 0, "A@x.de", "invite", "werkbank.local")
    assert first == message_id("m1", 0, "a@x.de", "invite", "werkbank.local")
    assert first != message_id("m1", 1, "a@x.de", "invite", "werkbank.local")


@pytest.mark.parametrize(
    ("name", "subject", "reply_to"),
    [
        ("Petra Schulte", "Einladung: Kundenchat", None),
        (
            "Jürgen Müller-Lüdenscheidt",
            "Einladung: Kundenchat für Bäckereien " * 4,
            "Büro <b@x.de>",
        ),
        ("A" * 90, "B " * 60, "staff@example.org"),
    ],
)
def test_rendering_gives_exactly_the_bytes_aiosmtplib_would_send(
    name: str, subject: str, reply_to: str | None
) -> None:
    mail = Email(
        sender_name="Digitale Werkbank",
        sender="werkbank@example.org",
        recipient_name=name,
        recipient="petra@example.org",
        subject=subject,
        text="Grüße\n" * 30,
        html="<p>Grüße</p>" * 30,
        ics="BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
        message_id="<abc@werkbank.local>",
        reply_to=reply_to,
        date=datetime(2026, 6, 1, 10, tzinfo=UTC),
    )
    message = imip_message(mail)
    assert rendered(message) == flatten_message(message)

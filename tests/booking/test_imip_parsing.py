"""Reading calendar clients' answers from raw mails, as each client sends them (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.booking.domain.imip import BadReplyError, NotAReplyError, read_reply
from tests.support.calendar_checks import parse_everywhere
from tests.support.imip_samples import Answer, calendar_text, mail, other_mail

pytestmark = pytest.mark.unit
ANSWER = Answer(
    uid="mtg-1@werkbank",
    attendee="petra@example.org",
    organizer="werkbank@example.org",
    start=datetime(2026, 6, 2, 10, tzinfo=ZoneInfo("Europe/Berlin")),
    sequence=2,
)
CLIENTS = ("outlook", "google", "apple", "thunderbird")


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(
    ("partstat", "expected"),
    [("ACCEPTED", "accepted"), ("TENTATIVE", "tentative"), ("DECLINED", "declined")],
)
def test_each_clients_reply_is_read_with_its_uid_sequence_attendee_and_answer(
    client: str, partstat: str, expected: str
) -> None:
    answer = ANSWER.but(partstat=partstat)
    reply = read_reply(mail(client, answer))
    assert (reply.method, reply.uid, reply.sequence) == ("REPLY", "mtg-1@werkbank", 2)
    assert (reply.attendee, reply.sender, reply.organizer) == (
        "petra@example.org",
        "petra@example.org",
        "werkbank@example.org",
    )
    assert reply.partstat == expected
    assert reply.mail_key == f"<{answer.message_id}>"


@pytest.mark.parametrize(("client", "kind"), [(c, "reply") for c in CLIENTS])
def test_the_sample_calendar_objects_parse_in_three_parsers(client: str, kind: str) -> None:
    parse_everywhere(calendar_text(client, ANSWER, kind))


def test_a_counter_carries_the_proposed_time_and_a_refresh_asks_for_the_invitation() -> None:
    proposed = datetime(2026, 6, 4, 14, tzinfo=UTC)
    counter = read_reply(
        mail(
            "outlook", ANSWER.but(proposed_start=proposed, comment="Lieber nachmittags"), "counter"
        )
    )
    assert (counter.method, counter.proposed_start, counter.comment) == (
        "COUNTER",
        proposed,
        "Lieber nachmittags",
    )
    refresh = read_reply(mail("thunderbird", ANSWER, "refresh"))
    assert (refresh.method, refresh.partstat) == ("REFRESH", None)
    parse_everywhere(calendar_text("outlook", ANSWER, "counter"))
    parse_everywhere(calendar_text("thunderbird", ANSWER, "refresh"))


def test_an_internationalised_attendee_is_read_in_the_canonical_form() -> None:
    reply = read_reply(mail("google", ANSWER.but(attendee="ute@bäckerei.example")))
    assert reply.attendee == reply.sender == "ute@xn--bckerei-5wa.example"


def test_mails_that_are_no_answers_or_broken_ones_are_told_apart() -> None:
    with pytest.raises(NotAReplyError):
        read_reply(other_mail("plain_mail", ANSWER))
    with pytest.raises(BadReplyError) as not_icalendar:
        read_reply(other_mail("not_icalendar", ANSWER))
    assert not_icalendar.value.reason == "not_icalendar"
    request = calendar_text("thunderbird", ANSWER).replace("METHOD:REPLY", "METHOD:REQUEST")
    with pytest.raises(NotAReplyError):  # a forwarded invitation is not an answer
        read_reply(mail("thunderbird", ANSWER, ics=request))
    two = calendar_text("google", ANSWER).replace(
        "UID:", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:eve@example.org\r\nUID:"
    )
    with pytest.raises(BadReplyError) as two_attendees:
        read_reply(mail("google", ANSWER, ics=two))
    assert two_attendees.value.reason == "malformed"
    odd = calendar_text("apple", ANSWER.but(partstat="DELEGATED"))
    with pytest.raises(BadReplyError) as delegated:
        read_reply(mail("apple", ANSWER, ics=odd))
    assert delegated.value.reason == "unsupported_partstat"

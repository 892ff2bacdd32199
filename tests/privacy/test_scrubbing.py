"""The scrubbing rules of erasure and the status of a request: pure, no servers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from services.matching.domain.privacy import ErasureStatus, erasure_status
from shared.privacy import ErasureSubject, Scrubber, terms_in
from shared.privacy_streams import id_pattern

ANNA = {
    "contact_id": "c-1",
    "name": "Anna Schmidt",
    "email": "anna@example.org",
    "phone": "+4923199",
}


def subject() -> ErasureSubject:
    found = ErasureSubject("erase-1", frozenset({"c-1"}))
    found.add_terms(terms_in({"attendees": [{"contact": ANNA}]}, found))
    return found


def test_the_terms_are_found_in_any_object_that_names_the_contact() -> None:
    assert subject().terms == {"Anna Schmidt", "anna@example.org", "+4923199"}


def test_an_object_naming_the_contact_loses_name_address_number_and_comment() -> None:
    doc = {"contact": {**ANNA, "comment": "ruft zurück", "locale": "de"}, "other": "Max Muster"}
    scrubbed = Scrubber.of(subject()).json(doc)
    assert scrubbed["contact"] == {
        "contact_id": "c-1", "name": "[gelöscht]", "email": None, "phone": None,
        "comment": "", "locale": "de",
    }  # fmt: skip
    assert scrubbed["other"] == "Max Muster"


def test_free_text_loses_every_mention_in_any_case_but_not_longer_words() -> None:
    scrubber = Scrubber.of(subject())
    text = "Bitte ANNA SCHMIDT anrufen (+4923199) oder anna@example.org; Anna Schmidtke nicht."
    scrubbed = scrubber.text(text)
    assert "anna schmidt " not in scrubbed.lower()
    assert "anna@" not in scrubbed
    assert "+4923199" not in scrubbed
    assert "Anna Schmidtke" in scrubbed


def test_a_folded_icalendar_line_is_unfolded_before_it_is_searched() -> None:
    ics = "ATTENDEE;CN=Anna Sch\r\n midt;RSVP=TRUE:mailto:anna@exa\r\n mple.org\r\n"
    scrubbed = Scrubber.of(subject()).text(ics)
    assert "Anna" not in scrubbed
    assert "anna@" not in scrubbed


def test_markers_differ_per_term_so_unique_rows_stay_unique() -> None:
    scrubber = Scrubber.of(subject())
    assert scrubber.text("anna@example.org") != scrubber.text("+4923199")


def test_an_event_body_in_bytes_is_scrubbed_as_json() -> None:
    body = json.dumps({"data": {"contact": ANNA}}).encode()
    scrubbed = Scrubber.of(subject()).value(body, "bytea")
    assert b"anna@example.org" not in scrubbed
    assert json.loads(scrubbed)["data"]["contact"]["contact_id"] == "c-1"


def test_a_dead_letter_names_the_contact_inside_its_escaped_original_body() -> None:
    original = json.dumps({"company": {"contacts": [{"contact_id": "c-1"}]}})
    letter = json.dumps({"data": {"original_body": original}})
    pattern = id_pattern({"c-1"})
    assert pattern is not None
    assert pattern.search(letter)
    assert not pattern.search(letter.replace('"c-1"', '"c-10"').replace('\\"c-1\\"', '\\"c-10\\"'))


def test_a_request_is_done_only_when_every_service_confirmed_and_overdue_after_the_limit() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    services = ("matching", "booking", "notify")
    limit = timedelta(hours=72)

    def status(confirmed: tuple[str, ...], hours: float) -> ErasureStatus:
        return erasure_status(
            requested_at=start, confirmed_by=confirmed, services=services,
            now=start + timedelta(hours=hours), overdue_after=limit,
        )  # fmt: skip

    assert status((), 1) == ErasureStatus.REQUESTED
    assert status(("matching",), 1) == ErasureStatus.IN_PROGRESS
    assert status(("matching", "booking"), 73) == ErasureStatus.OVERDUE
    assert status(services, 500) == ErasureStatus.DONE

"""The calendar objects and RSVP links booking sends with every version of a meeting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from services.booking.domain import rsvp
from services.booking.domain.invites import InviteSpec, InviteTexts, Person, calendar_draft
from services.booking.settings import BookingSettings
from shared.addresses import InvalidAddressError, canonical_address
from shared.events.booking import Calendar, CalendarMethod, Invitation, MeetingDetails
from shared.events.common import Contact


def prepare_calendar(
    uid: str, contacts: Iterable[Contact], settings: BookingSettings, now: datetime
) -> None:
    """Builds (and keeps) the part of a new meeting's calendar object that does not depend on
    its slot, so that booking can do it before it takes its locks."""
    calendar_draft(
        uid,
        0,
        CalendarMethod.REQUEST.value,
        Person(settings.organizer_name, calendar_address(str(settings.organizer_email))),
        _people(contacts),
        now,
    )


def _people(contacts: Iterable[Contact]) -> tuple[Person, ...]:
    return tuple(Person(c.name, calendar_address(str(c.email))) for c in contacts if c.email)


def calendar_address(email: str) -> str:
    """The address as notify mails it (punycode domain): clients match the ATTENDEE line
    against the address the invitation reached. One that cannot be encoded stays as it is
    (notify refuses to mail it anyway)."""
    try:
        return canonical_address(email)
    except InvalidAddressError:
        return email


def build_calendar(
    details: MeetingDetails, uid: str, sequence: int, method: CalendarMethod, now: datetime
) -> Calendar:
    place = details.place
    location = (
        place.video_url
        if place.kind == "virtual" and place.video_url
        else (
            f"{place.name}, {place.room_name + ', ' if place.room_name else ''}"
            f"{place.address or ''}"
        ).strip(", ")
    )
    spec = InviteSpec(
        uid=uid,
        sequence=sequence,
        method=method.value,
        title=details.title,
        start=details.start,
        end=details.end,
        location=location or place.name,
        organizer=Person(details.organizer.name, calendar_address(str(details.organizer.email))),
        attendees=_people(a.contact for a in details.attendees),
        stamp=now,
        video_url=place.video_url,
    )
    texts = InviteTexts(spec)
    invitations = tuple(
        Invitation(
            contact_id=a.contact.contact_id,
            ics=texts.for_recipient(a.contact.locale.value, a.rsvp_url or ""),
        )
        for a in details.attendees
        if a.contact.email
    )
    return Calendar(uid=uid, sequence=sequence, method=method, invitations=invitations)


def rsvp_url(
    settings: BookingSettings,
    secret: bytes,
    meeting_id: str,
    contact_id: str,
    end: datetime,
    sequence: int,
) -> str:
    """The attendee's link for this version of the meeting (a decline of an older one is moot)."""
    expires = rsvp.default_expiry(end)
    token = rsvp.issue(secret, meeting_id, contact_id, expires, sequence=sequence)
    return f"{settings.links_base}/rsvp/{token}"


def with_rsvp_links(
    details: MeetingDetails, settings: BookingSettings, secret: bytes, sequence: int
) -> MeetingDetails:
    attendees = tuple(
        a.model_copy(
            update={
                "rsvp_url": rsvp_url(
                    settings,
                    secret,
                    details.meeting_id,
                    a.contact.contact_id,
                    details.end,
                    sequence,
                )
            }
        )
        for a in details.attendees
    )
    return details.model_copy(update={"attendees": attendees})

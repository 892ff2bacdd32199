"""Which messages a booking event calls for, to whom, on which channel. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from shared.events.booking import (
    Attendee,
    InvitationRefreshed,
    MeetingCancelled,
    MeetingConfirmed,
    MeetingDetails,
    MeetingRescheduled,
    ReminderDue,
)

KINDS = {
    "booking.meeting.confirmed": ("invite", "confirmation"),
    "booking.meeting.rescheduled": ("update", "update"),
    "booking.meeting.cancelled": ("cancel", "cancel"),
    "booking.meeting.reminder_due": (None, "reminder"),
    "booking.meeting.invitation_refreshed": ("invite", None),
}


@dataclass(frozen=True)
class Planned:
    channel: str  # email or sms
    kind: str
    recipient: str
    contact_id: str
    locale: str
    timezone: str
    name: str
    ics: str | None = None
    rsvp_url: str | None = None


def _when(details: MeetingDetails, attendee: Attendee) -> tuple[str, str]:
    zone = ZoneInfo(attendee.contact.timezone)
    start, end = details.start.astimezone(zone), details.end.astimezone(zone)
    if attendee.contact.locale == "en":
        return start.strftime("%d %b %Y, %H:%M"), end.strftime("%H:%M")
    return start.strftime("%d.%m.%Y, %H:%M"), end.strftime("%H:%M")


def place_text(details: MeetingDetails) -> str:
    place = details.place
    if place.kind == "virtual" and place.video_url:
        return place.video_url
    room = f", {place.room_name}" if place.room_name else ""
    address = f", {place.address}" if place.address else ""
    return f"{place.name}{room}{address}"


def values_for(
    details: MeetingDetails, attendee: Attendee, previous: MeetingDetails | None = None
) -> dict[str, str]:
    """The texts' values; after a move, also the time before it (``previous``)."""
    start, end_time = _when(details, attendee)
    before = {}
    if previous is not None:
        previous_start, previous_end_time = _when(previous, attendee)
        before = {"previous_start": previous_start, "previous_end_time": previous_end_time}
    return {
        **before,
        "name": attendee.contact.name,
        "title": details.title,
        "start": start,
        "end_time": end_time,
        "place": place_text(details),
        "people": ", ".join(f"{a.contact.name} ({a.party_name})" for a in details.attendees),
        "rsvp_url": attendee.rsvp_url or "",
        "organizer": details.organizer.name,
    }


def _planned(
    attendee: Attendee, channel: str, kind: str, recipient: str, ics: str | None
) -> Planned:
    contact = attendee.contact
    return Planned(
        channel=channel,
        kind=kind,
        recipient=recipient,
        contact_id=contact.contact_id,
        locale=contact.locale.value,
        timezone=contact.timezone,
        name=contact.name,
        ics=ics,
        rsvp_url=attendee.rsvp_url,
    )


def plan(
    event: MeetingConfirmed
    | MeetingRescheduled
    | MeetingCancelled
    | ReminderDue
    | InvitationRefreshed,
) -> list[Planned]:
    email_kind, sms_kind = KINDS[event.type]
    details = event.meeting
    invitations = {}
    if not isinstance(event, ReminderDue):
        invitations = {i.contact_id: i.ics for i in event.calendar.invitations}
    planned: list[Planned] = []
    for attendee in details.attendees:
        contact = attendee.contact
        if email_kind and contact.email and contact.contact_id in invitations:
            planned.append(
                _planned(
                    attendee,
                    "email",
                    email_kind,
                    str(contact.email),
                    invitations[contact.contact_id],
                )
            )
        if sms_kind and contact.phone and contact.sms_consent:
            planned.append(_planned(attendee, "sms", sms_kind, contact.phone, None))
    return planned

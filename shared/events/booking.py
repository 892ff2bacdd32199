"""Events of the booking context: the life of a meeting.

booking owns the meaning of the meeting, including the iCalendar objects; notify only delivers them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, EmailStr, Field

from shared.events.base import Event
from shared.events.common import Contact, Frozen, PartyKind


class CalendarMethod(StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


class Organizer(Frozen):
    name: str
    email: EmailStr


class Place(Frozen):
    venue_id: str
    name: str
    kind: Literal["in_person", "virtual"]
    address: str | None = None
    room_id: str | None = None
    room_name: str | None = None
    video_url: str | None = None


class Attendee(Frozen):
    party_id: str
    party_kind: PartyKind
    party_name: str
    contact: Contact
    rsvp_url: str | None = None


class Invitation(Frozen):
    """The calendar object for one attendee, in that attendee's language."""

    contact_id: str
    ics: str = Field(description="A complete VCALENDAR, CRLF line endings")


class Calendar(Frozen):
    uid: str
    sequence: int = Field(ge=0)
    method: CalendarMethod
    invitations: tuple[Invitation, ...]


class MeetingDetails(Frozen):
    meeting_id: str
    match_id: str
    need_id: str
    title: str
    start: AwareDatetime
    end: AwareDatetime
    timezone: str = "Europe/Berlin"
    place: Place
    organizer: Organizer
    attendees: tuple[Attendee, ...] = Field(min_length=1)


class MeetingConfirmed(Event):
    type: Literal["booking.meeting.confirmed"] = "booking.meeting.confirmed"
    meeting: MeetingDetails
    calendar: Calendar


class MeetingRescheduled(Event):
    type: Literal["booking.meeting.rescheduled"] = "booking.meeting.rescheduled"
    meeting: MeetingDetails
    previous_start: AwareDatetime
    previous_end: AwareDatetime
    calendar: Calendar
    reason: str = ""
    rescheduled_by: str | None = Field(
        default=None, description="IdP subject of the staff member; none when attendees moved it"
    )


class MeetingCancelled(Event):
    type: Literal["booking.meeting.cancelled"] = "booking.meeting.cancelled"
    meeting: MeetingDetails
    calendar: Calendar
    reason: str = ""
    cancelled_by: str | None = Field(
        default=None, description="IdP subject of the staff member; none when the system did"
    )


class AttendeeResponse(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NEW_TIME_REQUESTED = "new_time_requested"
    TENTATIVE = "tentative"


class AttendeeResponded(Event):
    type: Literal["booking.meeting.attendee_responded"] = "booking.meeting.attendee_responded"
    meeting_id: str
    match_id: str
    contact_id: str
    party_kind: PartyKind
    response: AttendeeResponse
    comment: str = ""
    sequence: int | None = Field(
        default=None, ge=0, description="The version (SEQUENCE) of the meeting answered"
    )


class ReminderDue(Event):
    type: Literal["booking.meeting.reminder_due"] = "booking.meeting.reminder_due"
    reminder_id: str
    meeting: MeetingDetails
    lead_minutes: int = Field(ge=0)


class MeetingDeclined(Event):
    """An attendee declined the meeting or asked for another time; staff should know.

    booking has then either offered the next free slot (``next_start``, sent as a
    MeetingRescheduled with SEQUENCE+1) or cancelled the meeting (a MeetingCancelled follows);
    ``match_reopened`` is true exactly in that case, so that matching can reopen the need
    (``meeting.match_id``, ``meeting.need_id``).
    """

    type: Literal["booking.meeting.declined"] = "booking.meeting.declined"
    meeting: MeetingDetails = Field(description="The meeting as it was declined")
    contact_id: str
    party_kind: PartyKind
    response: AttendeeResponse
    comment: str = ""
    declines: int = Field(ge=1, description="Declines of this meeting so far, this one included")
    next_start: AwareDatetime | None = Field(
        default=None, description="The slot offered instead; none when the meeting was cancelled"
    )
    match_reopened: bool = Field(
        default=False, description="The meeting was cancelled: matching may reopen the need"
    )


class AttendanceStatus(StrEnum):
    HELD = "held"
    NO_SHOW = "no_show"


class FeedbackLink(Frozen):
    contact_id: str
    url: str


class AttendanceRecorded(Event):
    type: Literal["booking.meeting.attendance_recorded"] = "booking.meeting.attendance_recorded"
    meeting_id: str
    match_id: str
    status: AttendanceStatus
    no_show_party: PartyKind | None = None
    feedback_links: tuple[FeedbackLink, ...] = Field(
        default=(), description="Signed feedback links per attendee, when the meeting was held"
    )
    recorded_by: str | None = Field(default=None, description="IdP subject of the staff member")


class FeedbackOutcome(StrEnum):
    PROJECT_STARTED = "project_started"
    IN_PROGRESS = "in_progress"
    NO_FOLLOW_UP = "no_follow_up"


class FeedbackGiven(Event):
    type: Literal["booking.meeting.feedback_given"] = "booking.meeting.feedback_given"
    meeting_id: str
    match_id: str
    company_id: str
    provider_id: str
    given_by: PartyKind
    rating: int | None = Field(default=None, ge=1, le=4)
    outcome: FeedbackOutcome | None = None
    comment: str = Field(default="", max_length=2000)


class InvitationRefreshed(Event):
    """The current version of the invitation, sent again to the one attendee whose calendar
    client asked for it (iTIP REFRESH)."""

    type: Literal["booking.meeting.invitation_refreshed"] = "booking.meeting.invitation_refreshed"
    meeting: MeetingDetails
    calendar: Calendar
    contact_id: str


BookingEvent = Annotated[
    MeetingConfirmed
    | MeetingRescheduled
    | MeetingCancelled
    | AttendeeResponded
    | MeetingDeclined
    | ReminderDue
    | AttendanceRecorded
    | FeedbackGiven
    | InvitationRefreshed,
    Field(discriminator="type"),
]

__all__ = [
    "AttendanceRecorded",
    "AttendanceStatus",
    "Attendee",
    "AttendeeResponded",
    "AttendeeResponse",
    "BookingEvent",
    "Calendar",
    "CalendarMethod",
    "FeedbackGiven",
    "FeedbackLink",
    "FeedbackOutcome",
    "Invitation",
    "InvitationRefreshed",
    "MeetingCancelled",
    "MeetingConfirmed",
    "MeetingDeclined",
    "MeetingDetails",
    "MeetingRescheduled",
    "Organizer",
    "Place",
    "ReminderDue",
]

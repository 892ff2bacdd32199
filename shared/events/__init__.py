"""Event contracts of every context, and the registry from wire type to model."""

from shared.events.audit import AuditActionRecorded
from shared.events.base import Command, Envelope, Event, utc_now, wrap
from shared.events.booking import (
    AttendanceRecorded,
    AttendeeResponded,
    FeedbackGiven,
    InvitationRefreshed,
    MeetingCancelled,
    MeetingConfirmed,
    MeetingDeclined,
    MeetingRescheduled,
    ReminderDue,
)
from shared.events.deadletter import EventDeadLettered
from shared.events.matching import (
    CompanyRegistered,
    CompanyUpdated,
    MatchAccepted,
    MatchDeclined,
    MatchProposed,
    MatchRequested,
    NeedRegistered,
    NeedUpdated,
    ProviderRegistered,
    ProviderUpdated,
)
from shared.events.notify import NotificationDelivered, NotificationFailed
from shared.events.privacy import (
    ErasureCompleted,
    ErasureRequested,
    ExportAssembled,
    ExportRequested,
)

EVENT_MODELS: dict[str, type[Event]] = {
    model.event_type(): model
    for model in (
        CompanyRegistered,
        CompanyUpdated,
        ProviderRegistered,
        ProviderUpdated,
        NeedRegistered,
        NeedUpdated,
        MatchRequested,
        MatchProposed,
        MatchAccepted,
        MatchDeclined,
        MeetingConfirmed,
        MeetingRescheduled,
        MeetingCancelled,
        AttendeeResponded,
        MeetingDeclined,
        ReminderDue,
        AttendanceRecorded,
        FeedbackGiven,
        InvitationRefreshed,
        NotificationDelivered,
        NotificationFailed,
        AuditActionRecorded,
        EventDeadLettered,
        ErasureRequested,
        ErasureCompleted,
        ExportRequested,
        ExportAssembled,
    )
}

__all__ = ["EVENT_MODELS", "Command", "Envelope", "Event", "utc_now", "wrap"]

"""After the meeting: staff mark it held or no-show; attendees give feedback through signed links.

Feedback links are issued when a meeting is marked held, one per attendee, signed like the RSVP
links but for the purpose "feedback" (an RSVP link is refused here) and valid for
``feedback_days`` days, so that an attendee can come back later to say whether a project
started. The rating is taken once; the outcome may change. Each answer that adds something
publishes FeedbackGiven with only the new parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.booking import followup_repository, repository
from services.booking.changes import attendee_of, party_ids
from services.booking.domain import rsvp
from services.booking.service import SOURCE, NotFoundError
from services.booking.settings import BookingSettings
from shared.events.base import wrap
from shared.events.booking import (
    AttendanceRecorded,
    AttendanceStatus,
    Attendee,
    FeedbackGiven,
    FeedbackLink,
    FeedbackOutcome,
    MeetingDetails,
)
from shared.events.common import PartyKind
from shared.messaging import enqueue


class NotYetError(RuntimeError):
    """The meeting is not at the stage this needs (not started, or not held)."""


@dataclass(frozen=True)
class FeedbackPage:
    details: MeetingDetails
    attendee: Attendee
    rating: int | None
    outcome: str | None


def feedback_links(
    details: MeetingDetails, settings: BookingSettings, secret: bytes
) -> tuple[FeedbackLink, ...]:
    expires = details.end + timedelta(days=settings.feedback_days)
    return tuple(
        FeedbackLink(
            contact_id=a.contact.contact_id,
            url=f"{settings.links_base}/feedback/"
            + rsvp.issue(
                secret, details.meeting_id, a.contact.contact_id, expires, purpose=rsvp.FEEDBACK
            ),
        )
        for a in details.attendees
    )


async def record_attendance(
    conn: asyncpg.Connection,
    meeting_id: str,
    status: AttendanceStatus,
    no_show_party: PartyKind | None,
    settings: BookingSettings,
    secret: bytes,
    now: datetime,
    actor: str | None = None,
) -> AttendanceRecorded:
    """Mark the meeting held or no-show; its held alternatives are no longer needed."""
    row = await repository.meeting(conn, meeting_id, for_update=True)
    if row is None or row["status"] == "cancelled":
        raise NotFoundError(f"no live meeting {meeting_id}")
    if row["starts_at"] > now:
        raise NotYetError("the meeting has not started yet")
    details = MeetingDetails.model_validate(row["details"])
    await followup_repository.mark_attendance(conn, meeting_id, status.value)
    await repository.drop_held_options(conn, meeting_id)
    held = status is AttendanceStatus.HELD
    event = AttendanceRecorded(
        meeting_id=meeting_id,
        match_id=details.match_id,
        status=status,
        no_show_party=None if held else no_show_party,
        feedback_links=feedback_links(details, settings, secret) if held else (),
        recorded_by=actor,
    )
    envelope = wrap(event, source=SOURCE, correlation_id=f"match:{details.match_id}")
    await enqueue(conn, envelope, actor=actor)
    return event


async def feedback_page(conn: asyncpg.Connection, claim: rsvp.RsvpClaim) -> FeedbackPage:
    row = await repository.meeting(conn, claim.meeting_id)
    if row is None:
        raise NotFoundError("unknown meeting")
    if row["attendance"] != AttendanceStatus.HELD.value:
        raise NotYetError("feedback opens once the meeting is marked held")
    details = MeetingDetails.model_validate(row["details"])
    attendee = attendee_of(details, claim.contact_id)
    given = await followup_repository.feedback(conn, claim.meeting_id, claim.contact_id)
    return FeedbackPage(
        details,
        attendee,
        given["rating"] if given else None,
        given["outcome"] if given else None,
    )


async def give_feedback(
    conn: asyncpg.Connection,
    claim: rsvp.RsvpClaim,
    rating: int | None,
    outcome: FeedbackOutcome | None,
    comment: str,
) -> FeedbackGiven | None:
    """Store what is new (the rating once, a changed outcome, a comment) and publish it."""
    page = await feedback_page(conn, claim)
    new_rating = rating if page.rating is None else None
    new_outcome = outcome if outcome is not None and outcome.value != page.outcome else None
    if new_rating is None and new_outcome is None and not comment:
        return None
    await followup_repository.save_feedback(
        conn,
        claim.meeting_id,
        claim.contact_id,
        new_rating,
        new_outcome.value if new_outcome else None,
        comment,
    )
    provider_id, company_id = party_ids(page.details)
    event = FeedbackGiven(
        meeting_id=claim.meeting_id,
        match_id=page.details.match_id,
        company_id=company_id,
        provider_id=provider_id,
        given_by=page.attendee.party_kind,
        rating=new_rating,
        outcome=new_outcome,
        comment=comment,
    )
    correlation = f"match:{page.details.match_id}"
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=correlation))
    return event


def form_values(page: FeedbackPage) -> dict[str, Any]:
    return {
        "title": page.details.title,
        "name": page.attendee.contact.name,
        "rating": page.rating,
        "outcome": page.outcome,
        "outcomes": [outcome.value for outcome in FeedbackOutcome],
    }

"""Delivering booking events: plan the messages, send each once, record the outcome.

The deliveries of the events handled at once are attempted together, inside one transaction
that holds their rows, and marked in the same transaction, so two replicas never send one
twice. Each email the server accepted is journalled at once, outside that transaction; a crash
before the commit can therefore cause one duplicate email per crash (the one accepted but not
yet journalled), with the same Message-ID, so it is recognisable.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from typing import Any
from weakref import WeakValueDictionary
from zoneinfo import ZoneInfoNotFoundError

from prometheus_client import Counter

from services.notify import consent, repository
from services.notify.domain.messages import (
    Email,
    InvalidAddressError,
    InvalidNumberError,
    ascii_address,
    e164,
    imip_message,
    message_id,
    next_allowed_time,
)
from services.notify.domain.plan import KINDS, plan, values_for
from services.notify.journal import AcceptanceJournal, JournalUnavailableError
from services.notify.senders import (
    Accepted,
    PermanentDeliveryError,
    SmsGateway,
    SmtpPool,
    TransientError,
    send_email,
)
from services.notify.settings import NotifySettings
from services.notify.texts import Texts
from shared.contacts import is_known_timezone
from shared.db import Pool, transaction
from shared.events.base import Envelope, utc_now, wrap
from shared.events.booking import (
    Attendee,
    BookingEvent,
    MeetingDetails,
    MeetingRescheduled,
    ReminderDue,
)
from shared.events.notify import Channel, NotificationDelivered, NotificationFailed
from shared.messaging import PermanentError
from shared.messaging.outbox import enqueue_all

log = logging.getLogger(__name__)
SOURCE = "notify"
DELIVERIES = Counter(
    "werkbank_notify_deliveries_total",
    "Delivery attempts by channel and outcome (sent, retrying, held, failed, dead)",
    ["channel", "outcome"],
)


@dataclass
class Outbound:
    settings: NotifySettings
    texts: Texts
    smtp: SmtpPool
    sms: SmsGateway
    journal: AcceptanceJournal
    clock: Callable[[], datetime] = utc_now
    _meeting_locks: WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=WeakValueDictionary
    )

    def meeting_lock(self, meeting_id: str) -> asyncio.Lock:
        """Events of one meeting are delivered in the order they arrive, even with workers."""
        lock = self._meeting_locks.get(meeting_id)
        if lock is None:
            lock = self._meeting_locks[meeting_id] = asyncio.Lock()
        return lock


class DeliveriesPendingError(Exception):
    """Some deliveries failed for now; the event comes back after a delay."""


class RenderingError(Exception):
    """The message for one recipient cannot be built: permanent, for that delivery alone."""


def planned_rows(event: Any) -> list[dict[str, Any]]:
    """One row per planned delivery. A recipient whose data cannot be used (an unknown time
    zone, say) gets a row with its ``problem``: that delivery fails, and the others go out."""
    details = event.meeting
    sequence = event.lead_minutes if isinstance(event, ReminderDue) else event.calendar.sequence
    attendees = {a.contact.contact_id: a for a in details.attendees}
    rows = []
    for item in plan(event):
        values, problem = _values_or_problem(details, attendees[item.contact_id], _before(event))
        rows.append(
            {
                **asdict(item),
                "meeting_id": details.meeting_id,
                "sequence": sequence,
                "organizer_name": details.organizer.name,
                "organizer_email": str(details.organizer.email),
                "values": values,
                **({"problem": problem} if problem else {}),
            }
        )
    return rows


def _values_or_problem(
    details: MeetingDetails, attendee: Attendee, previous: MeetingDetails | None
) -> tuple[dict[str, str], str | None]:
    if not is_known_timezone(attendee.contact.timezone):
        return {}, "the contact's time zone is not an IANA time zone"
    try:
        return values_for(details, attendee, previous), None
    except (ValueError, KeyError, TypeError, ZoneInfoNotFoundError) as exc:
        return {}, f"the contact's data cannot be used ({type(exc).__name__})"


async def deliver_events(
    pool: Pool, outbound: Outbound, envelopes: Sequence[Envelope[BookingEvent]], max_attempts: int
) -> list[Exception | None]:
    """Plan the deliveries of every event, then attempt them all at once; one outcome per event:
    None when each was sent, failed for good or held, else the error its handler raises."""
    relevant = [e for e in envelopes if e.data.type in KINDS]
    open_rows: list[tuple[uuid.UUID, str]] = []
    if relevant:
        async with transaction(pool) as conn:
            await repository.plan_all(
                conn,
                [
                    (e.id, e.data.type, _meeting_of(e.data).meeting_id, planned_rows(e.data))
                    for e in relevant
                ],
            )
            await consent.apply_to_planned(conn, [e.id for e in relevant])
            open_rows = await repository.open_for_events(conn, [e.id for e in relevant])
    outcomes = await attempt_all(pool, outbound, [d for _, d in open_rows], max_attempts)
    by_event: dict[uuid.UUID, list[str]] = {}
    for event_id, delivery in open_rows:
        by_event.setdefault(event_id, []).append(outcomes.get(delivery, "done"))
    return [_event_outcome(by_event.get(e.id, []), max_attempts) for e in envelopes]


def _before(event: Any) -> MeetingDetails | None:
    """The meeting as it was before a move: the update email shows both times."""
    if not isinstance(event, MeetingRescheduled):
        return None
    before: MeetingDetails = event.meeting.model_copy(
        update={"start": event.previous_start, "end": event.previous_end}
    )
    return before


def _meeting_of(event: Any) -> MeetingDetails:
    meeting: MeetingDetails = event.meeting
    return meeting


def _event_outcome(outcomes: list[str], max_attempts: int) -> Exception | None:
    if "dead" in outcomes:
        # The failed events are published; the dead letter keeps the event for a replay.
        return PermanentError(
            f"{outcomes.count('dead')} deliveries gave up after {max_attempts} attempts"
        )
    if "retrying" in outcomes:
        return DeliveriesPendingError(f"{outcomes.count('retrying')} deliveries failed for now")
    return None


OPEN_STATUSES = ("pending", "retrying", "held")


@dataclass
class _Attempt:
    row: dict[str, Any]
    change: repository.StatusChange | None = None
    event: Envelope[Any] | None = None
    outcome: str = "done"

    @property
    def delivery(self) -> str:
        return str(self.row["delivery_id"])


async def attempt(pool: Pool, outbound: Outbound, delivery: str, max_attempts: int) -> str:
    return (await attempt_all(pool, outbound, [delivery], max_attempts)).get(delivery, "done")


async def attempt_all(
    pool: Pool, outbound: Outbound, deliveries: list[str], max_attempts: int
) -> dict[str, str]:
    """Send the open deliveries among ``deliveries``; their outcome (sent, held, retrying,
    failed or dead) by delivery id.

    One transaction holds their rows (so no other replica sends them meanwhile) and their
    recipients' locks (so the rate limits count exactly) from the decision to the record. An
    email the server accepted is journalled at once (``AcceptanceJournal``); SMS carry the
    delivery id as idempotency key. A crash before the commit therefore resends nothing, except
    the one email that was accepted but not yet journalled.
    """
    if not deliveries:
        return {}
    async with pool.acquire() as conn, conn.transaction():
        rows = [
            r for r in await repository.lock_all(conn, deliveries) if r["status"] in OPEN_STATUSES
        ]
        if not rows:
            return {}
        attempts = [_Attempt(row) for row in rows]
        now = outbound.clock()
        await repository.serialize_recipients(conn, [_recipient_key(r) for r in rows])
        sent = await repository.sent_since_all(
            conn,
            sorted({(r["channel"], r["recipient"], now - _window(r["channel"])) for r in rows}),
        )
        accepted = await repository.accepted_emails(
            conn, [a.delivery for a in attempts if a.row["channel"] == "email"]
        )
        to_send = _to_send_now(attempts, accepted, outbound.settings, now, sent)
        # Every send settles before the transaction ends, even when one of them fails.
        outcomes = await asyncio.gather(
            *(_send_one(outbound, item, max_attempts) for item in to_send), return_exceptions=True
        )
        if failure := next((o for o in outcomes if isinstance(o, BaseException)), None):
            raise failure
        await repository.set_statuses(conn, [a.change for a in attempts if a.change])
        await enqueue_all(conn, [a.event for a in attempts if a.event])
        journalled = [
            a.delivery for a in attempts if a.outcome == "sent" and a.row["channel"] == "email"
        ]
        if journalled:  # the record of the sending is now in the deliveries table
            await repository.forget_accepted(conn, journalled)
    for item in attempts:
        if item.outcome != "done":
            DELIVERIES.labels(item.row["channel"], item.outcome).inc()
    return {a.delivery: a.outcome for a in attempts}


def _to_send_now(
    attempts: list[_Attempt],
    accepted: dict[str, str],
    settings: NotifySettings,
    now: datetime,
    sent: dict[tuple[str, str], int],
) -> list[_Attempt]:
    """The attempts to send now; the others are recorded as sent before (journalled) or held."""
    to_send = []
    for item in attempts:
        if item.delivery in accepted:  # sent by an attempt that died before its commit
            _record_sent(item, accepted[item.delivery], now)
        elif problem := item.row["payload"].get("problem"):
            _record_failed(item, "failed", problem, permanent=True)
        elif (hold := _hold_until(settings, item.row, now, sent)) is not None:
            item.change = repository.StatusChange(item.delivery, "held", not_before=hold)
            item.outcome = "held"
        else:
            to_send.append(item)
    return to_send


def _recipient_key(row: dict[str, Any]) -> str:
    return f"{row['channel']}:{row['recipient'].lower()}"


def _window(channel: str) -> timedelta:
    return timedelta(days=1) if channel == "sms" else timedelta(hours=1)


def _hold_until(
    settings: NotifySettings,
    row: dict[str, Any],
    now: datetime,
    sent: dict[tuple[str, str], int],
) -> datetime | None:
    """When a delivery must wait: quiet hours (SMS) or the recipient's rate limit. ``sent``
    counts what the recipient got in the window, this attempt's sends included."""
    channel = row["channel"]
    if channel == "sms":
        allowed = next_allowed_time(
            now, row["payload"]["timezone"], settings.quiet_hours_start, settings.quiet_hours_end
        )
        if allowed > now:
            return allowed
        limit = settings.sms_per_recipient_per_day
    else:
        limit = settings.email_per_recipient_per_hour
    key = (channel, row["recipient"])
    if sent.get(key, 0) >= limit:
        return now + _window(channel) / 4
    sent[key] = sent.get(key, 0) + 1
    return None


async def _send_one(outbound: Outbound, item: _Attempt, max_attempts: int) -> None:
    row = item.row
    accepted_as: list[str] = []

    async def on_accepted(sent_id: str) -> None:
        accepted_as.append(sent_id)
        if row["channel"] == "email":
            try:
                await outbound.journal.record(item.delivery, sent_id)
            except JournalUnavailableError:
                # The server has the email: it counts as sent. Only if this group's own
                # transaction fails too is this one email sent again.
                log.warning("email accepted but not journalled", extra={"delivery": item.delivery})

    try:
        await _send(outbound, row["channel"], row["payload"], item.delivery, on_accepted)
    except (PermanentDeliveryError, InvalidNumberError, InvalidAddressError) as exc:
        _record_failed(item, "failed", str(exc), permanent=True)
    except RenderingError as exc:
        _record_failed(item, "failed", f"the message cannot be built: {exc}", permanent=True)
    except TransientError as exc:
        if row["attempts"] + 1 >= max_attempts:
            _record_failed(item, "dead", str(exc), permanent=False)
        else:
            item.change = repository.StatusChange(
                item.delivery, "retrying", attempted=True, error=str(exc)
            )
            item.outcome = "retrying"
    else:
        _record_sent(item, accepted_as[0] if accepted_as else "", outbound.clock())


def _record_sent(item: _Attempt, sent_id: str, now: datetime) -> None:
    item.change = repository.StatusChange(
        item.delivery, "sent", attempted=True, message_id=sent_id, at=now
    )
    item.event = _delivered(item.row, sent_id, now)
    item.outcome = "sent"


async def _send(
    outbound: Outbound, channel: str, payload: dict[str, Any], delivery: str, on_sent: Accepted
) -> None:
    if channel == "email":
        try:
            message, sender, recipient = _email_of(outbound, payload)
        except InvalidAddressError:
            raise
        except Exception as exc:
            raise RenderingError(type(exc).__name__) from exc
        await send_email(outbound.smtp, message, sender, recipient, on_sent)
        return
    try:
        number = e164(payload["recipient"])
        text = outbound.texts.render(
            payload["locale"], f"{payload['kind']}.sms.txt", **payload["values"]
        )
    except InvalidNumberError:
        raise
    except Exception as exc:
        raise RenderingError(type(exc).__name__) from exc
    await outbound.sms.send(number, text.strip(), delivery, on_sent)


def _email_of(outbound: Outbound, payload: dict[str, Any]) -> tuple[Message, str, str]:
    """The message, the envelope sender and the envelope recipient."""
    settings = outbound.settings
    subject, text, html = outbound.texts.email(
        payload["locale"], payload["kind"], **payload["values"]
    )
    mail_id = message_id(
        payload["meeting_id"],
        payload["sequence"],
        payload["recipient"],
        payload["kind"],
        settings.message_id_domain,
    )
    email = Email(
        sender_name=payload["organizer_name"],
        sender=payload["organizer_email"],
        recipient_name=payload["name"],
        recipient=payload["recipient"],
        subject=subject,
        text=text,
        html=html,
        ics=payload["ics"],
        message_id=mail_id,
        reply_to=settings.reply_to,
        date=outbound.clock(),
    )
    return imip_message(email), ascii_address(email.sender), ascii_address(email.recipient)


def _delivered(row: dict[str, Any], sent_id: str, now: datetime) -> Envelope[NotificationDelivered]:
    return wrap(
        NotificationDelivered(
            delivery_id=row["delivery_id"],
            source_event_id=str(row["event_id"]),
            source_event_type=row["event_type"],
            meeting_id=row["meeting_id"],
            contact_id=row["contact_id"],
            channel=Channel(row["channel"]),
            attempts=row["attempts"] + 1,
            message_id=sent_id or None,
            delivered_at=now,
        ),
        source=SOURCE,
        correlation_id=f"meeting:{row['meeting_id']}",
    )


def _record_failed(item: _Attempt, status: str, reason: str, *, permanent: bool) -> None:
    row = item.row
    log.warning(
        "delivery failed",
        extra={"delivery_id": item.delivery, "status": status, "channel": row["channel"]},
    )
    item.change = repository.StatusChange(item.delivery, status, attempted=True, error=reason)
    item.event = wrap(
        NotificationFailed(
            delivery_id=item.delivery,
            source_event_id=str(row["event_id"]),
            source_event_type=row["event_type"],
            meeting_id=row["meeting_id"],
            contact_id=row["contact_id"],
            channel=Channel(row["channel"]),
            attempts=row["attempts"] + 1,
            reason=reason,
            permanent=permanent,
        ),
        source=SOURCE,
        correlation_id=f"meeting:{row['meeting_id']}",
    )
    item.outcome = status


async def send_held(pool: Pool, outbound: Outbound, max_attempts: int, limit: int = 100) -> int:
    async with transaction(pool) as conn:
        due = await repository.due_held(conn, outbound.clock(), limit)
        for delivery in due:
            await repository.set_status(conn, delivery, "pending")
    await attempt_all(pool, outbound, due, max_attempts)
    return len(due)

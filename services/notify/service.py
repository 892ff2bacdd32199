"""Delivering booking events: plan the messages, send each once, record the outcome.

Each delivery is sent inside a transaction that holds its row lock, and marked sent in the same
transaction, so two replicas never send it twice. A crash between the server's acceptance and
the commit can cause one duplicate per crash; its Message-ID is the same, so it is recognisable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakValueDictionary

import asyncpg
from prometheus_client import Counter

from services.notify import repository
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
from shared.db import Pool, transaction
from shared.events.base import Envelope, utc_now, wrap
from shared.events.booking import BookingEvent, ReminderDue
from shared.events.notify import Channel, NotificationDelivered, NotificationFailed
from shared.messaging import PermanentError, enqueue

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


def planned_rows(event: Any) -> list[dict[str, Any]]:
    details = event.meeting
    sequence = event.lead_minutes if isinstance(event, ReminderDue) else event.calendar.sequence
    attendees = {a.contact.contact_id: a for a in details.attendees}
    rows = []
    for item in plan(event):
        rows.append(
            {
                **asdict(item),
                "meeting_id": details.meeting_id,
                "sequence": sequence,
                "organizer_name": details.organizer.name,
                "organizer_email": str(details.organizer.email),
                "values": values_for(details, attendees[item.contact_id]),
            }
        )
    return rows


async def deliver_event(
    pool: Pool, outbound: Outbound, envelope: Envelope[BookingEvent], max_attempts: int
) -> None:
    event: Any = envelope.data
    if event.type not in KINDS:
        return
    async with outbound.meeting_lock(event.meeting.meeting_id):
        await _deliver_planned(pool, outbound, envelope, max_attempts)


async def _deliver_planned(
    pool: Pool, outbound: Outbound, envelope: Envelope[BookingEvent], max_attempts: int
) -> None:
    event: Any = envelope.data
    async with transaction(pool) as conn:
        await repository.plan(
            conn, envelope.id, event.type, event.meeting.meeting_id, planned_rows(event)
        )
        open_rows = await repository.open_for_event(conn, envelope.id)
    outcomes = [
        await attempt(pool, outbound, row["delivery_id"], max_attempts) for row in open_rows
    ]
    if "dead" in outcomes:
        # The failed events are published; the dead letter keeps the event for a replay.
        raise PermanentError(
            f"{outcomes.count('dead')} deliveries gave up after {max_attempts} attempts"
        )
    if "retrying" in outcomes:
        raise DeliveriesPendingError(f"{outcomes.count('retrying')} deliveries failed for now")


class UnitOfWork:
    """A transaction the send path can commit early, inside the channel's acceptance window."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._transaction = conn.transaction()
        self.open = False

    async def start(self) -> None:
        await self._transaction.start()
        self.open = True

    async def commit(self) -> None:
        if self.open:
            self.open = False
            await self._transaction.commit()

    async def rollback(self) -> None:
        if self.open:
            self.open = False
            await self._transaction.rollback()


async def attempt(pool: Pool, outbound: Outbound, delivery: str, max_attempts: int) -> str:
    async with pool.acquire() as conn:
        unit = UnitOfWork(conn)
        await unit.start()
        try:
            channel, outcome = await _attempt_locked(conn, unit, outbound, delivery, max_attempts)
        except BaseException:
            await unit.rollback()
            raise
        await unit.commit()
        if channel:
            DELIVERIES.labels(channel, outcome).inc()
        return outcome


async def _attempt_locked(
    conn: asyncpg.Connection,
    unit: UnitOfWork,
    outbound: Outbound,
    delivery: str,
    max_attempts: int,
) -> tuple[str, str]:
    row = await repository.lock(conn, delivery)
    if row is None or row["status"] not in ("pending", "retrying", "held"):
        return "", "done"
    hold_until = await _hold_until(conn, outbound, row)
    if hold_until is not None:
        await repository.set_status(conn, delivery, "held", not_before=hold_until)
        return row["channel"], "held"

    async def record_sent(sent_id: str) -> None:
        now = outbound.clock()
        await repository.set_status(
            conn, delivery, "sent", attempted=True, message_id=sent_id, at=now
        )
        await enqueue(conn, _delivered(row, sent_id, now))
        await unit.commit()

    try:
        await _send(outbound, row["channel"], row["payload"], delivery, record_sent)
    except (PermanentDeliveryError, InvalidNumberError, InvalidAddressError) as exc:
        await _fail(conn, row, "failed", str(exc), permanent=True)
        return row["channel"], "failed"
    except TransientError as exc:
        if row["attempts"] + 1 >= max_attempts:
            await _fail(conn, row, "dead", str(exc), permanent=False)
            return row["channel"], "dead"
        await repository.set_status(conn, delivery, "retrying", attempted=True, error=str(exc))
        return row["channel"], "retrying"
    return row["channel"], "sent"


async def _hold_until(
    conn: asyncpg.Connection, outbound: Outbound, row: dict[str, Any]
) -> datetime | None:
    """When a delivery must wait: quiet hours (SMS) or the recipient's rate limit."""
    await repository.serialize_recipient(conn, row["channel"], row["recipient"])
    settings, now = outbound.settings, outbound.clock()
    if row["channel"] == "sms":
        allowed = next_allowed_time(
            now, row["payload"]["timezone"], settings.quiet_hours_start, settings.quiet_hours_end
        )
        if allowed > now:
            return allowed
        window, limit = timedelta(days=1), settings.sms_per_recipient_per_day
    else:
        window, limit = timedelta(hours=1), settings.email_per_recipient_per_hour
    sent = await repository.sent_since(conn, row["channel"], row["recipient"], now - window)
    if sent >= limit:
        return now + window / 4
    return None


async def _send(
    outbound: Outbound, channel: str, payload: dict[str, Any], delivery: str, on_sent: Accepted
) -> None:
    settings = outbound.settings
    if channel == "email":
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
        message = imip_message(email)
        await send_email(
            outbound.smtp,
            message,
            ascii_address(email.sender),
            ascii_address(email.recipient),
            on_sent,
        )
        return
    text = outbound.texts.render(
        payload["locale"], f"{payload['kind']}.sms.txt", **payload["values"]
    )
    await outbound.sms.send(e164(payload["recipient"]), text.strip(), delivery, on_sent)


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


async def _fail(
    conn: asyncpg.Connection, row: dict[str, Any], status: str, reason: str, *, permanent: bool
) -> None:
    await repository.set_status(conn, row["delivery_id"], status, attempted=True, error=reason)
    log.warning(
        "delivery failed",
        extra={"delivery_id": row["delivery_id"], "status": status, "channel": row["channel"]},
    )
    event = NotificationFailed(
        delivery_id=row["delivery_id"],
        source_event_id=str(row["event_id"]),
        source_event_type=row["event_type"],
        meeting_id=row["meeting_id"],
        contact_id=row["contact_id"],
        channel=Channel(row["channel"]),
        attempts=row["attempts"] + 1,
        reason=reason,
        permanent=permanent,
    )
    await enqueue(conn, wrap(event, source=SOURCE, correlation_id=f"meeting:{row['meeting_id']}"))


async def send_held(pool: Pool, outbound: Outbound, max_attempts: int, limit: int = 100) -> int:
    async with transaction(pool) as conn:
        due = await repository.due_held(conn, outbound.clock(), limit)
        for delivery in due:
            await repository.set_status(conn, delivery, "pending")
    for delivery in due:
        await attempt(pool, outbound, delivery, max_attempts)
    return len(due)

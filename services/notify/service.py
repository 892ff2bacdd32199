"""Delivering booking events: plan the messages, send each once, record the outcome.

Each delivery is sent inside a transaction that holds its row lock, and marked sent in the same
transaction, so two replicas never send it twice. A crash between the server's acceptance and
the commit can cause one duplicate per crash; its Message-ID is the same, so it is recognisable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from services.notify import repository
from services.notify.domain.messages import (
    Email,
    InvalidAddressError,
    InvalidNumberError,
    e164,
    imip_message,
    message_id,
    next_allowed_time,
)
from services.notify.domain.plan import KINDS, plan, values_for
from services.notify.senders import PermanentDeliveryError, TransientError, send_email, send_sms
from services.notify.settings import NotifySettings
from services.notify.texts import Texts
from shared.db import Pool, transaction
from shared.events.base import Envelope, utc_now, wrap
from shared.events.booking import BookingEvent, ReminderDue
from shared.events.notify import Channel, NotificationDelivered, NotificationFailed
from shared.messaging import PermanentError, enqueue

log = logging.getLogger(__name__)
SOURCE = "notify"


@dataclass
class Outbound:
    settings: NotifySettings
    texts: Texts
    http: httpx.AsyncClient
    clock: Callable[[], datetime] = utc_now


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


async def attempt(pool: Pool, outbound: Outbound, delivery: str, max_attempts: int) -> str:
    async with transaction(pool) as conn:
        row = await repository.lock(conn, delivery)
        if row is None or row["status"] not in ("pending", "retrying", "held"):
            return "done"
        payload = row["payload"]
        if row["channel"] == "sms":
            hold_until = await _sms_hold(conn, outbound, row)
            if hold_until is not None:
                await repository.set_status(conn, delivery, "held", not_before=hold_until)
                return "held"
        try:
            sent_id = await _send(outbound, row["channel"], payload)
        except (PermanentDeliveryError, InvalidNumberError, InvalidAddressError) as exc:
            await _fail(conn, row, "failed", str(exc), permanent=True)
            return "failed"
        except TransientError as exc:
            if row["attempts"] + 1 >= max_attempts:
                await _fail(conn, row, "dead", str(exc), permanent=False)
                return "dead"
            await repository.set_status(conn, delivery, "retrying", attempted=True, error=str(exc))
            return "retrying"
        await repository.set_status(conn, delivery, "sent", attempted=True, message_id=sent_id)
        await enqueue(conn, _delivered(row, sent_id, outbound.clock()))
        return "sent"


async def _sms_hold(
    conn: asyncpg.Connection, outbound: Outbound, row: dict[str, Any]
) -> datetime | None:
    settings, now = outbound.settings, outbound.clock()
    allowed = next_allowed_time(
        now, row["payload"]["timezone"], settings.quiet_hours_start, settings.quiet_hours_end
    )
    if allowed > now:
        return allowed
    sent = await repository.sms_sent_since(conn, row["recipient"], now - timedelta(days=1))
    if sent >= settings.sms_per_recipient_per_day:
        return now + timedelta(hours=1)
    return None


async def _send(outbound: Outbound, channel: str, payload: dict[str, Any]) -> str:
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
        message = imip_message(
            Email(
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
        )
        await send_email(settings, message)
        return mail_id
    text = outbound.texts.render(
        payload["locale"], f"{payload['kind']}.sms.txt", **payload["values"]
    )
    return await send_sms(settings, outbound.http, e164(payload["recipient"]), text.strip())


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

"""notify figures: emails and SMS per second through the running service, against raw sending.

The service runs as its own process on the embedded stack; the sinks run here. Each figure is
the sustained rate from the first published event until the sink has accepted the last message.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosmtplib

from bench.common import BenchContext, Figure, SinkProcess, fresh_streams
from services.notify.domain.messages import e164
from services.notify.domain.plan import values_for
from services.notify.senders import SmsGateway, sms_session
from services.notify.settings import NotifySettings
from services.notify.texts import Texts
from shared.events.base import Envelope, wrap
from shared.events.booking import MeetingDetails, ReminderDue
from tests.notify.test_crash import email_only
from tests.notify.test_delivery import confirmed, details
from tests.support.harness import ServiceProcess, nats_client, publish
from werkbank.stack import StackInfo

EMAIL_MEETINGS = 1000  # two attendees each: 2,000 invitation emails
SMS_REMINDERS = 1500  # two attendees each: 3,000 reminder SMS (reminders go by SMS only)
REPLICAS = 2  # one per core, as deployed: replicas share the durable consumer


def attendees_reached_by(meeting: MeetingDetails, domain: str, number: int) -> MeetingDetails:
    """Each attendee with an own address and an own mobile number, SMS consent given."""
    attendees = []
    for index, attendee in enumerate(meeting.attendees):
        contact = attendee.contact.model_copy(
            update={
                "email": f"{attendee.contact.contact_id}@{domain}",
                "phone": f"+49151{20000000 + 2 * number + index}",
                "sms_consent": True,
            }
        )
        attendees.append(attendee.model_copy(update={"contact": contact}))
    return meeting.model_copy(update={"attendees": tuple(attendees)})


def reminder(meeting: MeetingDetails) -> Envelope[ReminderDue]:
    return wrap(
        ReminderDue(reminder_id=f"{meeting.meeting_id}-24h", meeting=meeting, lead_minutes=1440),
        source="booking",
    )


async def run_service(
    stack: StackInfo, smtp: SinkProcess, sms: SinkProcess, replicas: int = REPLICAS
) -> list[ServiceProcess]:
    env = {
        **stack.service_env("NOTIFY_"),
        "NOTIFY_SMTP_HOST": smtp.host,
        "NOTIFY_SMTP_PORT": str(smtp.port),
        "NOTIFY_SMS_GATEWAY_URL": sms.url,
        "NOTIFY_DB_SCHEMA": f"bench_notify_{uuid.uuid4().hex[:6]}",
        "NOTIFY_STAFF_TOKEN": "bench",
        "NOTIFY_STATIC_TOKEN_ENABLED": "true",
        "NOTIFY_QUIET_HOURS_START": "00:00",  # no quiet hours: the bench runs at any time
        "NOTIFY_QUIET_HOURS_END": "00:00",
        "NOTIFY_SMS_PER_RECIPIENT_PER_DAY": "100000",
        "NOTIFY_LOG_LEVEL": "WARNING",
    }
    processes = [
        ServiceProcess("services.notify", env, "NOTIFY_HTTP_PORT") for _ in range(replicas)
    ]
    await asyncio.gather(*(process.start() for process in processes))
    return processes


async def pipeline_rate(
    stack: StackInfo, events: list[Envelope[Any]], arrived: Callable[[], int], expected: int
) -> float:
    """Sustained rate: from the moment a tenth has arrived to the last, so start-up is excluded."""
    async with nats_client(stack.nats_url) as client:
        await asyncio.gather(*(publish(client, event) for event in events))
    first_tenth = expected // 10
    while arrived() < first_tenth:  # noqa: ASYNC110 - the sinks count in other processes
        await asyncio.sleep(0.01)
    started, counted = time.perf_counter(), arrived()
    while arrived() < expected:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    return (expected - counted) / (time.perf_counter() - started)


async def raw_smtp_rate(smtp: SinkProcess, raws: list[bytes]) -> float:
    """Raw aiosmtplib, the same messages over one reused connection, one after another."""
    client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port)
    await client.connect()
    started = time.perf_counter()
    for raw in raws:
        await client.sendmail("werkbank@example.org", ["raw@example.org"], raw)
    rate = len(raws) / (time.perf_counter() - started)
    await client.quit()
    return rate


async def raw_sms_rate(sms: SinkProcess, count: int) -> float:
    async with sms_session(1) as session:
        started = time.perf_counter()
        for index in range(count):
            body = {"to": "+492311234567", "text": f"raw {index}"}
            async with session.post(sms.url, json=body) as answer:
                await answer.read()
        return count / (time.perf_counter() - started)


async def sms_stage_rate(sms: SinkProcess, count: int, concurrency: int = 32) -> float:
    """notify's SMS sending stage alone: template, E.164 check and the gateway adapter."""
    settings = NotifySettings(sms_gateway_url=sms.url)
    texts = Texts()
    values = values_for(details(), details().attendees[0])
    gate = asyncio.Semaphore(concurrency)

    async def recorded(_: str) -> None:
        return None

    async with sms_session(concurrency) as session:
        gateway = SmsGateway(settings, session)

        async def send(index: int) -> None:
            async with gate:
                text = texts.render("de", "reminder.sms.txt", **values).strip()
                await gateway.send(e164(f"+49151{30000000 + index}"), text, f"k{index}", recorded)

        started = time.perf_counter()
        await asyncio.gather(*(send(index) for index in range(count)))
        return count / (time.perf_counter() - started)


async def run(context: BenchContext) -> list[Figure]:
    stack = context.stack()
    await fresh_streams(stack)
    with tempfile.TemporaryDirectory() as folder:
        smtp = SinkProcess("smtp", Path(folder) / "mail")
        sms = SinkProcess("sms", Path(folder) / "sms.jsonl")
        replicas = await run_service(stack, smtp, sms)
        try:
            domain = f"bench-{uuid.uuid4().hex[:6]}.example.org"
            invites = [confirmed(email_only(details(), domain)) for _ in range(EMAIL_MEETINGS)]
            email_rate = await pipeline_rate(
                stack,
                invites,
                lambda: smtp.count,
                2 * EMAIL_MEETINGS,
            )
            raws = [path.read_bytes() for path in sorted(smtp.path.glob("*.eml"))]
            email_raw = await raw_smtp_rate(smtp, raws)

            reminders = [
                reminder(attendees_reached_by(details(), domain, number))
                for number in range(SMS_REMINDERS)
            ]
            sms_rate = await pipeline_rate(stack, reminders, lambda: sms.count, 2 * SMS_REMINDERS)
            sms_raw = await raw_sms_rate(sms, 500)
            sms_stage = await sms_stage_rate(sms, 3000)
        finally:
            for replica in replicas:
                replica.stop()
            smtp.stop()
            sms.stop()
    return [
        Figure(
            "notify_emails_per_s",
            email_rate,
            "emails/s",
            baseline=email_raw,
            goal=">= 250/s",
            note=(
                f"{2 * EMAIL_MEETINGS} iMIP invitations through {REPLICAS} notify processes (NATS, "
                f"deliveries table, outbox); ratio {email_rate / email_raw:.2f} against raw "
                "aiosmtplib "
                "sending the same messages over one connection"
            ),
        ),
        Figure(
            "notify_sms_per_s",
            sms_rate,
            "sms/s",
            baseline=sms_raw,
            goal=">= 1000/s",
            note=(
                f"{2 * SMS_REMINDERS} reminder SMS through {REPLICAS} notify processes to the "
                "local gateway; baseline: raw aiohttp posts, one by one"
            ),
        ),
        Figure(
            "notify_sms_sending_stage_per_s",
            sms_stage,
            "sms/s",
            baseline=sms_raw,
            goal=">= 1000/s",
            note="notify's SMS adapter alone (template, E.164, gateway post), 32 at once",
        ),
    ]

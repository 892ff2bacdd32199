"""The background loop that reads the organizer mailbox into RSVP state."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.booking.inbound import repository as inbound_repository
from services.booking.inbound.mailbox import Mailbox
from services.booking.inbound.replies import INBOUND_MAILS, handle_mail
from services.booking.settings import BookingSettings
from shared.db import transaction
from shared.service import ServiceRuntime


async def reply_loop(runtime: ServiceRuntime) -> None:
    """Reads new mails as they arrive; off when no IMAP host is configured."""
    settings = runtime.settings
    assert isinstance(settings, BookingSettings)
    if not settings.imap_host:
        return
    mailbox = Mailbox(settings)
    await asyncio.to_thread(mailbox.open)
    try:
        while True:
            read = await read_new_mails(runtime, mailbox)
            if read < settings.imap_batch:
                await asyncio.to_thread(mailbox.wait_for_news, settings.imap_poll_seconds)
    finally:
        # Not a polite LOGOUT from another thread: a thread may still be blocked in IDLE on
        # this connection, would read the LOGOUT's answer, and leave the logout waiting for
        # the socket time-out. Shutting the socket down wakes that thread at once.
        mailbox.abandon()


async def read_new_mails(runtime: ServiceRuntime, mailbox: Mailbox) -> int:
    """Handle the mails above the cursor in one transaction; then move the answers away and
    advance the cursor. A crash in between only means reading them again: each mail's key was
    claimed in the transaction that handled it. A mail whose handling fails rolls the batch
    back; the loop restarts and reads it again."""
    settings = runtime.settings
    assert isinstance(settings, BookingSettings)
    folder = settings.imap_folder
    async with transaction(runtime.pool) as conn:
        kept = await inbound_repository.cursor(conn, folder)
    last_uid = kept[1] if kept and kept[0] == mailbox.uid_validity else 0
    mails = await asyncio.to_thread(mailbox.newer_than, last_uid, settings.imap_batch)
    if not mails:
        return 0
    secret: bytes = runtime.state["rsvp_secret"]
    outcomes = []
    async with transaction(runtime.pool) as conn:  # one commit (one WAL flush) per batch
        for mail in mails:
            outcomes.append(await handle_mail(conn, mail.raw, settings, secret, datetime.now(UTC)))
    for handled in outcomes:
        INBOUND_MAILS.labels(handled.outcome).inc()
    answered = [
        mail.uid for mail, handled in zip(mails, outcomes, strict=True) if not handled.left_alone
    ]
    await asyncio.to_thread(mailbox.mark_processed, answered)
    async with transaction(runtime.pool) as conn:
        await inbound_repository.advance(conn, folder, mailbox.uid_validity, mails[-1].uid)
    return len(mails)

"""The organizer mailbox over IMAP (imapclient, blocking: each call runs in a thread).

Mails are read by UID above a cursor kept in booking's schema, so mails that are not answers
are left as they are and not read again; handled answers are moved to a folder of their own
(a keyword would do too, but not every server keeps custom keywords). IDLE where the server
offers it, polling otherwise.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from dataclasses import dataclass

from imapclient import IMAPClient

from services.booking.settings import BookingSettings


@dataclass(frozen=True)
class Fetched:
    uid: int
    raw: bytes


class Mailbox:
    def __init__(self, settings: BookingSettings) -> None:
        self._settings = settings
        self._client: IMAPClient | None = None
        self.uid_validity = 0

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            msg = "the mailbox is not open"
            raise RuntimeError(msg)
        return self._client

    def open(self) -> None:
        settings = self._settings
        assert settings.imap_host is not None
        context = ssl.create_default_context() if settings.imap_tls else None
        client = IMAPClient(
            settings.imap_host,
            port=settings.imap_port,
            ssl=settings.imap_tls,
            ssl_context=context,
            timeout=30,
        )
        password = settings.imap_password.get_secret_value() if settings.imap_password else ""
        client.login(settings.imap_user, password)
        if not client.folder_exists(settings.imap_processed_folder):
            client.create_folder(settings.imap_processed_folder)
        selected = client.select_folder(settings.imap_folder)
        self.uid_validity = int(selected[b"UIDVALIDITY"])
        self._client = client

    def abandon(self) -> None:
        """Drop the connection without a goodbye; safe while another thread is reading."""
        if self._client is not None:
            with contextlib.suppress(OSError, IMAPClient.Error):
                self._client.shutdown()
            self._client = None

    def newer_than(self, last_uid: int, limit: int) -> list[Fetched]:
        """Up to ``limit`` mails with a UID above ``last_uid``, oldest first (without marking
        them read)."""
        found = self.client.search(["UID", f"{last_uid + 1}:*"])
        uids = sorted(uid for uid in found if uid > last_uid)[:limit]
        if not uids:
            return []
        fetched = self.client.fetch(uids, [b"BODY.PEEK[]"])
        return [Fetched(uid, fetched[uid][b"BODY[]"]) for uid in uids if uid in fetched]

    def mark_processed(self, uids: list[int]) -> None:
        """Move the handled answers out of the folder that is read."""
        if not uids:
            return
        folder = self._settings.imap_processed_folder
        if self.client.has_capability("MOVE"):
            self.client.move(uids, folder)
            return
        self.client.copy(uids, folder)
        self.client.delete_messages(uids)
        if self.client.has_capability("UIDPLUS"):
            self.client.uid_expunge(uids)
        else:
            self.client.expunge()

    def wait_for_news(self, seconds: float) -> None:
        """Until the server reports a change (IDLE) or ``seconds`` pass."""
        if not self.client.has_capability("IDLE"):
            time.sleep(seconds)
            return
        self.client.idle()
        try:
            self.client.idle_check(timeout=seconds)
        except TimeoutError:
            pass
        finally:
            self.client.idle_done()

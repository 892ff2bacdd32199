"""Adapters to the outside world: SMTP (aiosmtplib) and SMS gateways (generic JSON, Twilio).

Both take an ``on_accepted`` callback that records the delivery. For email it runs inside the
*acceptance window*: a lock held from the moment the SMTP server can accept the message (DATA)
until the record is committed. A crash can therefore leave at most one accepted-but-unrecorded
email per process, which is the one duplicate the restart may send; it has the same Message-ID.
SMS are posted concurrently with the delivery id as idempotency key, so a gateway that honours
it (Twilio does) drops the repeat a crash could cause.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from email.message import Message
from typing import Any

import aiohttp
import aiosmtplib

from services.notify.domain.messages import rendered
from services.notify.settings import NotifySettings
from shared.logging import redact

Accepted = Callable[[str], Awaitable[None]]


class TransientError(Exception):
    """Worth retrying later: SMTP 4xx, timeouts, gateway 5xx or 429."""


class PermanentDeliveryError(Exception):
    """No retry can help: SMTP 5xx, a number the gateway refuses."""


def smtp_tls_context(settings: NotifySettings) -> ssl.SSLContext | None:
    if not (settings.smtp_starttls or settings.smtp_use_tls):
        return None
    context = ssl.create_default_context(
        cafile=str(settings.smtp_ca_bundle) if settings.smtp_ca_bundle else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class SmtpPool:
    """Keeps up to ``size`` SMTP connections open and reuses them, one transaction at a time."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self.acceptance = asyncio.Lock()
        self._open = asyncio.Semaphore(settings.smtp_pool_size)
        self._idle: list[aiosmtplib.SMTP] = []
        self._tls = smtp_tls_context(settings)

    def _new_client(self) -> aiosmtplib.SMTP:
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            use_tls=settings.smtp_use_tls,
            # False, not None: never upgrade by surprise when STARTTLS is off.
            start_tls=settings.smtp_starttls,
            tls_context=self._tls,
            timeout=settings.smtp_timeout_seconds,
        )

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosmtplib.SMTP]:
        # At most ``smtp_pool_size`` transactions at once.
        async with self._open, self._connection() as client:
            yield client

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosmtplib.SMTP]:
        client = self._idle.pop() if self._idle else self._new_client()
        try:
            if not client.is_connected:
                await client.connect()
            yield client
        except BaseException:
            client.close()  # a connection in an unknown state is never reused
            raise
        if len(self._idle) < self.settings.smtp_pool_size:
            self._idle.append(client)
        else:
            await _quit_quietly(client)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            await _quit_quietly(client)


async def _quit_quietly(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        client.close()


@contextmanager
def smtp_errors_classified() -> Iterator[None]:
    try:
        yield
    except aiosmtplib.SMTPAuthenticationError as exc:
        # The operator's credentials, not the message: retry, then dead-letter for a replay.
        raise TransientError(f"SMTP login refused: {exc.code} {redact(exc.message)}") from exc
    except aiosmtplib.SMTPResponseException as exc:
        if 400 <= exc.code < 500:
            raise TransientError(f"SMTP {exc.code} {redact(exc.message)}") from exc
        raise PermanentDeliveryError(f"SMTP {exc.code} {redact(exc.message)}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise TransientError(f"SMTP unreachable: {type(exc).__name__}") from exc


async def send_email(
    pool: SmtpPool, message: Message, sender: str, recipient: str, on_accepted: Accepted
) -> None:
    try:
        body = rendered(message)
    except (ValueError, UnicodeError, TypeError) as exc:  # HeaderParseError is a ValueError
        msg = f"the message cannot be rendered: {type(exc).__name__}"
        raise PermanentDeliveryError(msg) from exc
    with smtp_errors_classified():
        async with pool.connection() as client:
            await client.mail(sender)
            await client.rcpt(recipient)
            async with pool.acceptance:
                await client.data(body)
                await on_accepted(str(message["Message-ID"]))


class SmsGateway:
    """Posts SMS to the configured gateway over a pooled aiohttp session."""

    def __init__(self, settings: NotifySettings, session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.session = session

    async def send(self, to: str, text: str, key: str, on_accepted: Accepted) -> None:
        settings = self.settings
        if not settings.sms_gateway_url:
            raise PermanentDeliveryError("no SMS gateway configured (NOTIFY_SMS_GATEWAY_URL)")
        try:
            async with self._post(settings.sms_gateway_url, to, text, key) as answer:
                status = answer.status
                body = await answer.json(content_type=None) if status < 400 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TransientError(f"SMS gateway unreachable: {type(exc).__name__}") from exc
        if status == 429 or status >= 500:
            raise TransientError(f"SMS gateway answered {status}")
        if status >= 400:
            raise PermanentDeliveryError(f"SMS gateway refused: {status}")
        body = body if isinstance(body, dict) else {}
        await on_accepted(str(body.get("id") or body.get("sid") or ""))

    def _post(self, url: str, to: str, text: str, key: str) -> Any:
        settings = self.settings
        secret = settings.sms_api_key.get_secret_value() if settings.sms_api_key else None
        # Gateways that honour an idempotency key drop the duplicate a crash could cause.
        headers = {"Idempotency-Key": key, "I-Twilio-Idempotency-Token": key}
        timeout = aiohttp.ClientTimeout(total=settings.sms_timeout_seconds)
        if settings.sms_adapter == "twilio":
            return self.session.post(
                url,
                data={"To": to, "From": settings.sms_sender, "Body": text},
                auth=aiohttp.BasicAuth(settings.sms_account_sid or "", secret or ""),
                headers=headers,
                timeout=timeout,
            )
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        return self.session.post(
            url,
            json={"to": to, "from": settings.sms_sender, "text": text},
            headers=headers,
            timeout=timeout,
        )


def sms_session(limit: int = 64) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))

"""Adapters to the outside world: SMTP (aiosmtplib) and SMS gateways (generic JSON, Twilio)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
import httpx

from services.notify.settings import NotifySettings


class TransientError(Exception):
    """Worth retrying later: SMTP 4xx, timeouts, gateway 5xx or 429."""


class PermanentDeliveryError(Exception):
    """No retry can help: SMTP 5xx, a number the gateway refuses."""


async def send_email(settings: NotifySettings, message: EmailMessage) -> None:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_starttls,
            use_tls=settings.smtp_use_tls,
            timeout=settings.smtp_timeout_seconds,
        )
    except aiosmtplib.SMTPResponseException as exc:
        if 400 <= exc.code < 500:
            raise TransientError(f"SMTP {exc.code} {exc.message}") from exc
        raise PermanentDeliveryError(f"SMTP {exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise TransientError(f"SMTP unreachable: {type(exc).__name__}") from exc


async def send_sms(settings: NotifySettings, client: httpx.AsyncClient, to: str, text: str) -> str:
    if not settings.sms_gateway_url:
        raise PermanentDeliveryError("no SMS gateway configured (NOTIFY_SMS_GATEWAY_URL)")
    key = settings.sms_api_key.get_secret_value() if settings.sms_api_key else None
    try:
        if settings.sms_adapter == "twilio":
            answer = await client.post(
                settings.sms_gateway_url,
                data={"To": to, "From": settings.sms_sender, "Body": text},
                auth=(settings.sms_account_sid or "", key or ""),
                timeout=settings.sms_timeout_seconds,
            )
        else:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            answer = await client.post(
                settings.sms_gateway_url,
                json={"to": to, "from": settings.sms_sender, "text": text},
                headers=headers,
                timeout=settings.sms_timeout_seconds,
            )
    except httpx.HTTPError as exc:
        raise TransientError(f"SMS gateway unreachable: {type(exc).__name__}") from exc
    if answer.status_code == 429 or answer.status_code >= 500:
        raise TransientError(f"SMS gateway answered {answer.status_code}")
    if answer.status_code >= 400:
        raise PermanentDeliveryError(f"SMS gateway refused: {answer.status_code}")
    return str(answer.json().get("id") or answer.json().get("sid") or "")

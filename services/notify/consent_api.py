"""SMS consent: staff look it up and withdraw it; the gateway's inbound webhook takes STOP."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from services.notify import consent
from services.notify.domain.messages import InvalidNumberError, e164
from services.notify.settings import NotifySettings
from shared import audit
from shared.auth import GuardedRoute, Staff, Viewer
from shared.db import transaction
from shared.service import runtime_of

router = APIRouter(prefix="/api/notify", tags=["sms consent"], route_class=GuardedRoute)
MAX_WEBHOOK_BYTES = 16 * 1024


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=3, max_length=32, description="The number, best in E.164")


def _number(raw: str, field: str) -> str:
    try:
        return e164(raw)
    except InvalidNumberError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {"field": field, "message": "not a valid phone number"},
        ) from None


@router.get("/sms-consents")
async def sms_consent(
    request: Request, _: Viewer, phone: str = Query(min_length=3, max_length=32)
) -> dict[str, Any]:
    number = _number(phone, "phone")
    async with transaction(runtime_of(request).pool) as conn:
        found = await consent.consent_of(conn, number)
    if found is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, {"field": "phone", "message": "no consent recorded"}
        )
    return found


@router.post("/sms-consents/withdrawals")
async def withdraw(body: WithdrawalIn, request: Request, actor: Staff) -> dict[str, Any]:
    number = _number(body.phone, "phone")
    async with transaction(runtime_of(request).pool) as conn:
        stopped = await consent.withdraw(conn, number, f"staff:{actor.subject}", datetime.now(UTC))
        await audit.record(conn, request)
    return {"withdrawn": True, "stopped": stopped}


def _webhook_secret(request: Request) -> str:
    settings = runtime_of(request).settings
    assert isinstance(settings, NotifySettings)
    if settings.sms_webhook_secret is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the SMS webhook is off")
    return settings.sms_webhook_secret.get_secret_value()


def _inbound(body: bytes, content_type: str) -> tuple[str, str]:
    """(sender, text) of a generic JSON message or a Twilio form post."""
    if "application/json" in content_type:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
        return str(payload.get("from", "")), str(payload.get("text", ""))
    form = parse_qs(body.decode("utf-8"))
    return form.get("From", [""])[0], form.get("Body", [""])[0]


@router.post("/sms/inbound")
async def inbound_sms(request: Request) -> dict[str, bool]:
    """An SMS sent to the office's number, posted by the gateway; STOP withdraws consent."""
    given = request.headers.get("x-webhook-secret", "")
    if not hmac.compare_digest(given.encode(), _webhook_secret(request).encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong webhook secret")
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "message too large")
    try:
        sender, text = _inbound(body, request.headers.get("content-type", ""))
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, {"field": "body", "message": "unreadable"}
        ) from None
    if not consent.is_stop(text):
        return {"withdrawn": False}
    number = _number(sender, "from")
    async with transaction(runtime_of(request).pool) as conn:
        await consent.withdraw(conn, number, "SMS STOP über das Gateway", datetime.now(UTC))
    return {"withdrawn": True}

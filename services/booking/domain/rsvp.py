"""Signed, expiring RSVP links: HMAC-SHA256 over (meeting, contact, expiry)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta


class InvalidTokenError(ValueError):
    pass


@dataclass(frozen=True)
class RsvpClaim:
    meeting_id: str
    contact_id: str
    expires: datetime


def _sign(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(secret: bytes, meeting_id: str, contact_id: str, expires: datetime) -> str:
    payload = f"{meeting_id}|{contact_id}|{int(expires.timestamp())}"
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{encoded}.{_sign(secret, payload)}"


def verify(secret: bytes, token: str, now: datetime) -> RsvpClaim:
    try:
        encoded, signature = token.split(".", 1)
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        meeting_id, contact_id, expiry = payload.split("|")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidTokenError("malformed token") from exc
    if not hmac.compare_digest(signature, _sign(secret, payload)):
        raise InvalidTokenError("bad signature")
    expires = datetime.fromtimestamp(int(expiry), tz=now.tzinfo)
    if expires < now:
        raise InvalidTokenError("expired")
    return RsvpClaim(meeting_id, contact_id, expires)


def default_expiry(meeting_start: datetime) -> datetime:
    return meeting_start + timedelta(days=1)

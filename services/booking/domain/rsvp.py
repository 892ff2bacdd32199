"""Signed, expiring attendee links: HMAC-SHA256 over (meeting, contact, expiry).

Each purpose (RSVP, feedback) signs with its own key derived from the secret, so that a link
for one purpose is refused for another. The RSVP key is the secret itself, as it always was.
"""

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
    sequence: int | None = None  # the version of the meeting the link was sent with


RSVP = "rsvp"
FEEDBACK = "feedback"


def _key(secret: bytes, purpose: str) -> bytes:
    if purpose == RSVP:
        return secret
    return hmac.new(secret, f"werkbank:{purpose}".encode(), hashlib.sha256).digest()


def _sign(secret: bytes, payload: str, purpose: str) -> str:
    digest = hmac.new(_key(secret, purpose), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(
    secret: bytes,
    meeting_id: str,
    contact_id: str,
    expires: datetime,
    *,
    purpose: str = RSVP,
    sequence: int | None = None,
) -> str:
    payload = f"{meeting_id}|{contact_id}|{int(expires.timestamp())}"
    if sequence is not None:
        payload += f"|{sequence}"
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{encoded}.{_sign(secret, payload, purpose)}"


def verify(secret: bytes, token: str, now: datetime, *, purpose: str = RSVP) -> RsvpClaim:
    try:
        encoded, signature = token.split(".", 1)
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        meeting_id, contact_id, expiry, *version = payload.split("|")
        sequence = int(version[0]) if version else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidTokenError("malformed token") from exc
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str.
    expected = _sign(secret, payload, purpose).encode()
    if not hmac.compare_digest(signature.encode("utf-8", "surrogateescape"), expected):
        raise InvalidTokenError("bad signature")
    try:
        expires = datetime.fromtimestamp(int(expiry), tz=now.tzinfo)
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidTokenError("malformed token") from exc
    if expires < now:
        raise InvalidTokenError("expired")
    return RsvpClaim(meeting_id, contact_id, expires, sequence)


def default_expiry(meeting_start: datetime) -> datetime:
    return meeting_start + timedelta(days=1)

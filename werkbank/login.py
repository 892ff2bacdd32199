"""``werkbank login``: an access token for the CLI from the office's OpenID provider.

The CLI is a machine client: it uses the client-credentials grant with its client id and
secret (``WERKBANK_CLIENT_SECRET`` or a prompt; never stored). The token, not the secret, is
kept in ``$XDG_CONFIG_HOME/werkbank/token.json`` (mode 0600) until it expires. Under
``make up`` the stack's issuer and the ``werkbank-cli`` client are the defaults.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

EXPIRY_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class StoredToken:
    issuer: str
    client_id: str
    access_token: str
    expires_at: float

    @property
    def fresh(self) -> bool:
        return time.time() < self.expires_at - EXPIRY_MARGIN_SECONDS


def token_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "werkbank" / "token.json"


def fetch_token(issuer: str, client_id: str, client_secret: str) -> StoredToken:
    """Client credentials at the issuer's token endpoint (found through discovery)."""
    with httpx.Client(timeout=10) as client:
        discovery = client.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        discovery.raise_for_status()
        answer = client.post(
            discovery.json()["token_endpoint"],
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
        )
    if answer.status_code != 200:
        error: dict[str, Any] = answer.json() if answer.content else {}
        msg = f"the provider refused: {error.get('error', answer.status_code)}"
        raise PermissionError(msg)
    body = answer.json()
    return StoredToken(
        issuer=issuer,
        client_id=client_id,
        access_token=str(body["access_token"]),
        expires_at=time.time() + float(body.get("expires_in", 300)),
    )


def save(token: StoredToken, path: Path | None = None) -> Path:
    target = path or token_file()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(asdict(token), handle)
    return target


def load(path: Path | None = None) -> StoredToken | None:
    """The stored token, if there is one that has not expired."""
    source = path or token_file()
    try:
        token = StoredToken(**json.loads(source.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return token if token.fresh else None


def forget(path: Path | None = None) -> bool:
    target = path or token_file()
    existed = target.exists()
    target.unlink(missing_ok=True)
    return existed

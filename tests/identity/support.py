"""Tokens from the embedded stack's OpenID provider, for the identity tests."""

from __future__ import annotations

from typing import Any

import httpx

from werkbank.idp import CONSOLE_CLIENT_ID, user_token
from werkbank.stack import StackInfo

VIEWER, STAFF, ADMIN = "lena.vogt", "jonas.becker", "miriam.schulz"


def token_of(stack: StackInfo, username: str) -> str:
    """A user's access token, through the authorization code flow with PKCE."""
    tokens = user_token(
        stack.oidc_issuer,
        username,
        stack.oidc_users[username]["password"],
        client_secret=stack.oidc_clients[CONSOLE_CLIENT_ID],
    )
    access_token: str = tokens["access_token"]
    return access_token


def minted(stack: StackInfo, claims: dict[str, Any]) -> str:
    """A token signed by the provider's current key, with claims the test chooses."""
    answer = httpx.post(
        f"{stack.oidc_issuer}/testing/tokens",
        json={"claims": claims},
        headers={"Authorization": f"Bearer {stack.oidc_testing_secret}"},
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def rotate_key(stack: StackInfo, *, keep_previous: bool = True) -> str:
    answer = httpx.post(
        f"{stack.oidc_issuer}/testing/rotate-key",
        params={"keep_previous": str(keep_previous).lower()},
        headers={"Authorization": f"Bearer {stack.oidc_testing_secret}"},
    )
    answer.raise_for_status()
    kid: str = answer.json()["kid"]
    return kid

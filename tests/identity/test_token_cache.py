"""Verified tokens are remembered until they expire; failures are never remembered.

The tokens come from the stack's OpenID provider; ``jwt.decode`` is wrapped only to count how
often a signature is really checked (it still does the work)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from shared.auth import AuthenticationError, TokenVerifier
from tests.identity.support import VIEWER, minted, rotate_key, token_of
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real: Callable[..., Any] = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return seen


def _verifier(stack: StackInfo, **options: Any) -> TokenVerifier:
    verifier = TokenVerifier(stack.oidc_issuer, "werkbank", **options)
    verifier.fetch_keys()
    return verifier


def test_a_verified_token_is_checked_once_and_its_actor_reused(
    stack: StackInfo, decodes: list[str]
) -> None:
    token = token_of(stack, VIEWER)
    verifier = _verifier(stack)
    actors = {verifier.verify(token) for _ in range(3)}
    assert len(actors) == 1
    assert actors.pop().roles == frozenset({"viewer"})
    assert decodes == [token]


async def test_the_async_path_uses_the_same_cache(stack: StackInfo, decodes: list[str]) -> None:
    token = token_of(stack, VIEWER)
    verifier = _verifier(stack)
    first = await verifier.verify_async(token)
    assert await verifier.verify_async(token) == first
    assert verifier.verify(token) == first
    assert decodes == [token]


def test_failures_are_never_remembered(stack: StackInfo, decodes: list[str]) -> None:
    wrong_audience = minted(stack, {"sub": "mallory", "roles": ["admin"], "aud": "another-app"})
    verifier = _verifier(stack)
    for _ in range(2):
        with pytest.raises(AuthenticationError, match="another audience"):
            verifier.verify(wrong_audience)
    assert decodes == [wrong_audience, wrong_audience]


def test_a_remembered_token_still_expires_with_the_configured_skew(stack: StackInfo) -> None:
    expires = int(time.time()) + 2
    token = minted(stack, {"sub": "short-lived", "roles": ["viewer"], "exp": expires})
    verifier = _verifier(stack, leeway_seconds=1.0)
    assert verifier.verify(token).subject == "short-lived"
    time.sleep(max(0.0, expires - time.time()) + 0.2)
    # Past exp but inside the skew: still accepted.
    assert verifier.verify(token).subject == "short-lived"
    time.sleep(max(0.0, expires + 1.0 - time.time()) + 0.2)
    with pytest.raises(AuthenticationError, match="expired"):
        verifier.verify(token)


def test_the_cache_is_bounded_and_forgets_the_least_recently_used(
    stack: StackInfo, decodes: list[str]
) -> None:
    tokens = [minted(stack, {"sub": f"user-{n}", "roles": ["viewer"]}) for n in range(3)]
    verifier = _verifier(stack, cache_size=2)
    for token in tokens:
        verifier.verify(token)
    verifier.verify(tokens[2])
    verifier.verify(tokens[0])  # pushed out by the third: checked again
    assert decodes == [tokens[0], tokens[1], tokens[2], tokens[0]]


def test_a_token_whose_key_is_withdrawn_is_not_taken_from_the_cache(stack: StackInfo) -> None:
    token = token_of(stack, VIEWER)
    verifier = _verifier(stack)
    assert verifier.verify(token).subject
    rotate_key(stack, keep_previous=False)
    verifier.fetch_keys()
    with pytest.raises(AuthenticationError, match="does not publish"):
        verifier.verify(token)

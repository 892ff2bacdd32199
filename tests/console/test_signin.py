"""The sign-in rules that need no browser: where a person may be sent back, token refresh."""

from __future__ import annotations

import time

from pydantic import SecretStr

from services.console.domain.problems import problem_from
from services.console.settings import ConsoleSettings
from services.console.web.session import Session
from services.console.web.signin import fresh_enough, provider_for, safe_target
from werkbank.idp import CONSOLE_CLIENT_ID, user_token
from werkbank.stack import StackInfo


def test_only_paths_on_the_console_are_targets_after_sign_in() -> None:
    assert safe_target("/bedarfe?q=holz") == "/bedarfe?q=holz"
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example", "", None):
        assert safe_target(hostile) == "/"


async def test_a_token_near_its_end_is_refreshed_at_the_provider_else_sign_in_again(
    stack: StackInfo,
) -> None:
    secret = stack.oidc_clients[CONSOLE_CLIENT_ID]
    provider = provider_for(
        ConsoleSettings(
            oidc_issuer=stack.oidc_issuer,
            oidc_client_id=CONSOLE_CLIENT_ID,
            oidc_client_secret=SecretStr(secret),
        )
    )
    user = "jonas.becker"
    first = user_token(
        stack.oidc_issuer, user, stack.oidc_users[user]["password"], client_secret=secret
    )
    assert first.get("refresh_token"), "the provider gives the console refresh tokens"
    now = time.time()
    session = Session(
        {
            "access_token": first["access_token"],
            "expires_at": now + 10,
            "refresh_token": first["refresh_token"],
        }
    )
    assert await fresh_enough(provider, session, now)
    assert session.data["access_token"] != first["access_token"]
    assert session.data["expires_at"] > now + 60

    still_valid = Session({"access_token": "kept", "expires_at": now + 3600})
    assert await fresh_enough(provider, still_valid, now)
    assert still_valid.data["access_token"] == "kept"

    assert not await fresh_enough(provider, Session({"access_token": "t", "expires_at": now}), now)
    refused = Session({"access_token": "t", "expires_at": now, "refresh_token": "not-issued"})
    assert not await fresh_enough(provider, refused, now)


def test_a_403_names_the_role_the_service_asked_for_in_german() -> None:
    problem = problem_from(403, {"detail": "this needs the role 'admin'", "status": 403})
    assert problem.message == (
        "Für diese Aktion fehlt Ihnen die Berechtigung: nötig ist die Rolle „Verwaltung“ (admin)."
    )
    assert problem_from(403, None).message == "Für diese Aktion fehlt Ihnen die Berechtigung."

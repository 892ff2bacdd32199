"""The Keycloak realm (deploy/k8s/identity) issues the tokens the services validate."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from tests.deploy.rendering import DEPLOY, render

REALM = DEPLOY / "identity" / "werkbank-realm.json"
SERVICES = ("matching", "booking", "notify", "console")


def realm() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REALM.read_text(encoding="utf-8"))
    return loaded


def prod_config(service: str) -> dict[str, str]:
    [found] = (
        d
        for d in render("prod")
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == f"werkbank-{service}"
    )
    data: dict[str, str] = found["data"]
    return data


def clients() -> dict[str, dict[str, Any]]:
    return {client["clientId"]: client for client in realm()["clients"]}


def test_the_issuer_of_every_service_is_this_realm() -> None:
    for service in SERVICES:
        issuer = prod_config(service)[f"{service.upper()}_OIDC_ISSUER"]
        assert issuer.endswith(f"/realms/{realm()['realm']}")


def test_access_tokens_carry_the_audience_the_services_expect() -> None:
    scopes = {scope["name"]: scope for scope in realm()["clientScopes"]}
    audiences = {
        mapper["config"]["included.custom.audience"]
        for scope in scopes.values()
        for mapper in scope["protocolMappers"]
        if mapper["protocolMapper"] == "oidc-audience-mapper"
        and mapper["config"]["access.token.claim"] == "true"
    }
    expected = {prod_config(s)[f"{s.upper()}_OIDC_AUDIENCE"] for s in SERVICES}
    assert audiences == expected == {"werkbank"}
    for client in clients().values():
        assert "werkbank-api" in client["defaultClientScopes"], client["clientId"]
        # Keycloak's built-in "roles" scope writes realm roles to realm_access.roles.
        assert "roles" in client["defaultClientScopes"], client["clientId"]
    assert {prod_config(s)[f"{s.upper()}_OIDC_ROLES_CLAIM"] for s in SERVICES} == {
        "realm_access.roles"
    }


def test_the_roles_nest_admin_over_staff_over_viewer() -> None:
    roles = {role["name"]: role for role in realm()["roles"]["realm"]}
    assert set(roles) == {"viewer", "staff", "admin"}
    assert roles["staff"]["composites"]["realm"] == ["viewer"]
    assert roles["admin"]["composites"]["realm"] == ["staff"]
    granted = {group["name"]: group["realmRoles"] for group in realm()["groups"]}
    assert sorted(role for roles_ in granted.values() for role in roles_) == [
        "admin",
        "staff",
        "viewer",
    ]


def test_the_console_signs_in_as_a_confidential_client_on_its_own_host() -> None:
    console = clients()[prod_config("console")["CONSOLE_OIDC_CLIENT_ID"]]
    assert console["publicClient"] is False
    assert console["standardFlowEnabled"] is True
    assert console["implicitFlowEnabled"] is False
    assert console["directAccessGrantsEnabled"] is False
    assert console["attributes"]["pkce.code.challenge.method"] == "S256"
    host = urlsplit(prod_config("console")["CONSOLE_PUBLIC_BASE_URL"]).hostname
    assert [urlsplit(uri).hostname for uri in console["redirectUris"]] == [host]
    assert "secret" not in console, "Keycloak generates the secret; none in git"


def test_the_cli_is_a_public_client_with_pkce_to_loopback_only() -> None:
    cli = clients()["werkbank-cli"]
    assert cli["publicClient"] is True
    assert cli["attributes"]["pkce.code.challenge.method"] == "S256"
    assert {urlsplit(uri).hostname for uri in cli["redirectUris"]} <= {"127.0.0.1", "localhost"}


def test_no_overlay_turns_the_static_token_on() -> None:
    for overlay in ("dev", "prod"):
        for doc in render(overlay):
            if doc["kind"] != "ConfigMap":
                continue
            for key, value in doc.get("data", {}).items():
                assert not (key.endswith("STATIC_TOKEN_ENABLED") and value.lower() == "true")
                assert not key.endswith("STAFF_TOKEN")
    script = (DEPLOY / "secrets.example.sh").read_text(encoding="utf-8")
    assert "STAFF_TOKEN=" not in script

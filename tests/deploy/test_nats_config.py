"""The NATS users: the Helm values carry exactly the permission table of werkbank.nats_security."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.rendering import DEPLOY
from werkbank.nats_security import (
    OPS_PERMISSIONS,
    OPS_USER,
    PERMISSIONS,
    SERVICES,
    TlsFiles,
    password_env,
    server_config,
)
from werkbank.stack import nats_server_binary

VALUES = DEPLOY / "nats" / "values.yaml"
PASSWORDS = {user: f"pw-{user}" for user in (*SERVICES, OPS_USER)}


def values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    return loaded


def users() -> dict[str, dict[str, Any]]:
    return {u["user"]: u for u in values()["config"]["merge"]["authorization"]["users"]}


def test_the_helm_values_grant_each_service_exactly_the_permission_table() -> None:
    found = users()
    assert set(found) == {*SERVICES, OPS_USER}
    for service, expected in PERMISSIONS.items():
        permissions = found[service]["permissions"]
        assert permissions["publish"]["allow"] == list(expected.publish), service
        assert permissions["subscribe"]["allow"] == list(expected.subscribe), service
        assert set(permissions["publish"]) == {"allow"}
    ops = found[OPS_USER]["permissions"]
    assert ops["publish"]["allow"] == list(OPS_PERMISSIONS.publish)
    assert ops["subscribe"]["allow"] == list(OPS_PERMISSIONS.subscribe)


def test_the_table_is_what_issue_7_asks_for() -> None:
    assert PERMISSIONS["matching"].subscribe[0] == "booking.meeting.>"
    assert PERMISSIONS["booking"].subscribe[0] == "matching.match.accepted"
    assert PERMISSIONS["notify"].subscribe[0] == "booking.meeting.>"
    for service in SERVICES:
        allowed = PERMISSIONS[service]
        assert allowed.publish[:2] == (f"{service}.>", f"deadletter.{service}.>")
        assert "_INBOX.>" in allowed.subscribe
        assert any(
            s.startswith("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.") for s in allowed.subscribe
        )
        assert any(s.startswith("$JS.ACK.") for s in allowed.publish)
        others = [o for o in SERVICES if o != service]
        assert not any(
            s.startswith((f"{o}.", f"deadletter.{o}.")) for o in others for s in allowed.publish
        )


def test_passwords_come_from_the_environment_fed_by_a_secret() -> None:
    env = values()["container"]["env"]
    for user, entry in users().items():
        assert entry["password"] == f"<< ${password_env(user)} >>"
        ref = env[password_env(user)]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "nats-users", "key": user}
    text = VALUES.read_text(encoding="utf-8")
    literal = re.search(r"^\s*-?\s*password:(?!\s*<< \$[A-Z_]+ >>$)", text, re.MULTILINE)
    assert literal is None, "a literal password in the values"


def test_the_values_ask_for_a_three_node_jetstream_cluster_with_tls() -> None:
    config = values()["config"]
    assert config["cluster"]["enabled"] is True
    assert config["cluster"]["replicas"] == 3
    assert config["jetstream"]["enabled"] is True
    assert config["jetstream"]["fileStore"]["pvc"]["size"]
    assert values()["promExporter"]["enabled"] is True
    # Clients: TLS with the certificate cert-manager issues (nats/certificates.yaml).
    assert config["nats"]["tls"]["enabled"] is True
    assert config["nats"]["tls"]["secretName"] in certificate_secrets()


def certificate_secrets() -> set[str]:
    docs = yaml.safe_load_all((DEPLOY / "nats" / "certificates.yaml").read_text(encoding="utf-8"))
    return {doc["spec"]["secretName"] for doc in docs if doc["kind"] == "Certificate"}


def test_routes_are_authenticated_by_mutual_tls_of_the_cluster_ca() -> None:
    """Issue 18: a credential-less server joined through port 6222 and read every subject."""
    cluster_tls = values()["config"]["cluster"]["tls"]
    assert cluster_tls["enabled"] is True
    assert cluster_tls["merge"]["verify"] is True  # peers must present a certificate
    assert cluster_tls["secretName"] in certificate_secrets()
    ca = values()["tlsCA"]
    assert ca["enabled"] is True
    assert ca["secretName"] in certificate_secrets(), "the CA's own Secret holds its private key"


def test_the_runtime_knows_its_memory_limit_and_the_chart_version_is_pinned() -> None:
    env = values()["container"]["env"]
    limit = values()["container"]["merge"]["resources"]["limits"]["memory"]
    assert limit == "1Gi"
    assert env["GOMEMLIMIT"] == "900MiB"  # below the limit, so the GC runs before the OOM killer
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert re.search(r"helm upgrade --install nats nats/nats .*--version 2\.14\.2", readme)


def check_with_nats_server(text: str, tmp_path: Path) -> None:
    path = tmp_path / "nats.conf"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_server_config_is_valid_for_nats_server(tmp_path: Path) -> None:
    text = server_config(PASSWORDS, jetstream_dir=tmp_path / "js", port=4333)
    check_with_nats_server(text, tmp_path)
    assert "port: 4333" in text
    assert '"$JS.API.CONSUMER.MSG.NEXT.MATCHING.booking-on-matching"' in text


def test_server_config_with_tls(tmp_path: Path) -> None:
    tls = TlsFiles(
        Path("/etc/nats/tls.crt"), Path("/etc/nats/tls.key"), Path("/etc/nats/ca.crt"), True
    )
    text = server_config(PASSWORDS, tls=tls)
    block = text[text.index("tls {") :]
    assert 'cert_file: "/etc/nats/tls.crt"' in block
    assert 'key_file: "/etc/nats/tls.key"' in block
    assert 'ca_file: "/etc/nats/ca.crt"' in block
    assert "verify: true" in block


def test_server_config_leaves_out_the_ops_user_without_a_password() -> None:
    text = server_config(dict.fromkeys(SERVICES, "pw"))
    assert 'user: "ops"' not in text
    assert text.count("user: ") == len(SERVICES)


@pytest.mark.parametrize(
    ("passwords", "message"),
    [
        ({"matching": "a", "booking": "b"}, "no password for notify"),
        ({"matching": "a", "booking": "b", "notify": ""}, "no password for notify"),
        ({**dict.fromkeys(SERVICES, "x"), "mallory": "x"}, "unknown NATS users: mallory"),
    ],
)
def test_server_config_refuses_missing_or_unknown_users(
    passwords: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        server_config(passwords)


def test_a_password_with_quotes_stays_one_string(tmp_path: Path) -> None:
    text = server_config({**PASSWORDS, "booking": 'we"ird $HOME'})
    check_with_nats_server(text, tmp_path)
    assert 'password: "we\\"ird $HOME"' in text

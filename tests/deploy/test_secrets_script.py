"""deploy/k8s/secrets.example.sh creates every Secret key the manifests read, in both profiles.

The script runs for real with bash; ``kubectl`` is a stand-in on PATH that records its arguments
instead of calling a cluster, and the test reads each ``create secret`` (namespace, name, keys).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.rendering import DEPLOY, render

SCRIPT = DEPLOY / "secrets.example.sh"
# Records each call's arguments, NUL-separated, one call per record (ASCII RS).
RECORDER = r"""#!/usr/bin/env bash
printf '%s\0' "$@" >> "$RECORD"; printf '\036' >> "$RECORD"
if [[ "$*" == *"get secret"* ]]; then printf 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=='; fi
"""


def created(record: str) -> dict[tuple[str, str], dict[str, str]]:
    secrets = {}
    for call in filter(None, record.split("\x1e")):
        args = call.rstrip("\0").split("\0")
        namespace = args[args.index("-n") + 1]
        rest = [a for i, a in enumerate(args) if a != "-n" and (i == 0 or args[i - 1] != "-n")]
        if rest[:2] == ["create", "secret"]:
            pairs = [
                a.removeprefix("--from-literal=") for a in rest if a.startswith("--from-literal=")
            ]
            secrets[(namespace, rest[3])] = dict(pair.split("=", 1) for pair in pairs)
    return secrets


@cache
def run(profile: str) -> dict[tuple[str, str], dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="werkbank-secrets-") as folder:
        tmp_path = Path(folder)
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        kubectl = bin_dir / "kubectl"
        kubectl.write_text(RECORDER, encoding="utf-8")
        kubectl.chmod(0o755)
        record = tmp_path / "record"
        env = {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "RECORD": str(record),
            "PROFILE": profile,
            "PG_BACKUP_ACCESS_KEY_ID": "key-id",
            "PG_BACKUP_SECRET_ACCESS_KEY": "key",
            "NOTIFY_SMTP_HOST": "smtp.example.org",
            "CONSOLE_OIDC_CLIENT_SECRET": "from-keycloak",
            "BOOKING_IMAP_HOST": "imap.example.org",
        }
        result = subprocess.run(
            ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return created(record.read_text(encoding="utf-8"))


def references(doc: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    """(Secret name, key or None for envFrom) for every Secret a workload reads."""
    pod = doc["spec"]["template"]["spec"]
    for container in pod["containers"] + pod.get("initContainers", []):
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                yield source["secretRef"]["name"], None
        for variable in container.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                yield ref["name"], ref["key"]
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            for item in volume["secret"].get("items", []):
                yield volume["secret"]["secretName"], item["key"]


@pytest.mark.parametrize(("profile", "namespace"), [("prod", "werkbank"), ("dev", "werkbank-dev")])
def test_every_secret_a_workload_reads_is_created(profile: str, namespace: str) -> None:
    secrets = run(profile)
    for doc in render(profile):
        if doc["kind"] not in {"Deployment", "StatefulSet"}:
            continue
        for name, key in references(doc):
            assert (namespace, name) in secrets, (doc["metadata"]["name"], name)
            if key is not None:
                assert key in secrets[(namespace, name)], (doc["metadata"]["name"], name, key)
    if profile == "prod":
        [cluster] = [d for d in render("prod") if d["kind"] == "Cluster"]
        for role in cluster["spec"]["managed"]["roles"]:
            data = secrets[(namespace, role["passwordSecret"]["name"])]
            assert data["username"] == role["name"]


@pytest.mark.parametrize("profile", ["prod", "dev"])
def test_each_service_gets_its_own_role_and_a_migration_url_with_a_lock_timeout(
    profile: str,
) -> None:
    secrets = run(profile)
    namespace = "werkbank" if profile == "prod" else "werkbank-dev"
    host = "werkbank-pg-rw" if profile == "prod" else "postgres"
    for service in ("matching", "booking", "notify", "console"):
        data = secrets[(namespace, f"werkbank-{service}")]
        prefix = service.upper()
        url = urlsplit(data[f"{prefix}_DATABASE_URL"])
        assert (url.username, url.hostname, url.path) == (service, host, "/werkbank")
        migrate = data[f"{prefix}_MIGRATE_DATABASE_URL"]
        assert migrate == data[f"{prefix}_DATABASE_URL"] + "?lock_timeout=5s"
        assert data[f"{prefix}_NATS_PASSWORD"]
        assert not any(key.endswith("STAFF_TOKEN") for key in data)
    nats_namespace = "nats" if profile == "prod" else "werkbank-dev"
    users = secrets[(nats_namespace, "nats-users")]
    assert set(users) == {"matching", "booking", "notify", "console", "ops"}
    assert len(set(users.values())) == len(users), "one password per user"
    booking = secrets[(namespace, "werkbank-booking")]
    assert len(booking["BOOKING_RSVP_SECRET"]) >= 32
    assert booking["BOOKING_IMAP_HOST"] == "imap.example.org"

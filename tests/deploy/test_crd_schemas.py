"""Every custom resource validates against the upstream CRD of the version the runbook installs.

The CRDs are vendored under deploy/k8s/crds (README there: repository, tag, commit). The check
runs with the deploy tools' Python (jsonschema), so like the other tool checks it needs
``.venv-deploy`` (``make check-deploy``).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.deploy.rendering import DEPLOY, REPO, is_core, render, write
from tests.deploy.tools import tool

SCRIPT = REPO / "tests" / "deploy" / "crd_validation.py"
CRDS = DEPLOY / "crds"


def validate(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool("python")), str(SCRIPT), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_custom_resource_matches_its_upstream_schema(tmp_path: Path) -> None:
    write(tmp_path)
    result = validate(*sorted((tmp_path / "all").glob("*.yaml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_field_or_value_is_reported(tmp_path: Path) -> None:
    prod = [doc for doc in render("prod") if not is_core(doc)]
    for doc in prod:
        if doc["kind"] == "ScheduledBackup":
            doc["spec"]["method"] = "barmanObjectstore"
        if doc["kind"] == "ObjectStore":
            doc["spec"]["configuration"]["destinationPaht"] = "s3://typo"
        if doc["kind"] == "ScaledObject" and doc["metadata"]["name"] == "booking":
            doc["spec"]["maxReplicaCount"] = "nine"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump_all(prod), encoding="utf-8")
    result = validate(broken)
    assert result.returncode == 1
    assert "ScheduledBackup/werkbank-pg-daily" in result.stdout
    assert "'destinationPaht' was unexpected" in result.stdout
    assert "spec.maxReplicaCount: 'nine' is not of type 'integer'" in result.stdout


def test_a_kind_without_a_vendored_crd_is_reported(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(
        "apiVersion: example.org/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}\n",
        encoding="utf-8",
    )
    result = validate(unknown)
    assert result.returncode == 1
    assert "Widget/w (example.org/v1): no vendored CRD" in result.stdout


def test_each_vendored_crd_is_listed_with_its_upstream_version() -> None:
    listing = (CRDS / "README.md").read_text(encoding="utf-8")
    files = sorted(CRDS.rglob("*.yaml"))
    assert files
    for path in files:
        relative = path.relative_to(CRDS).as_posix()
        assert relative in listing, f"{relative} is not in deploy/k8s/crds/README.md"
        [crd] = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
        assert crd["kind"] == "CustomResourceDefinition"
    for folder in {path.parent.name for path in files}:
        row = next(line for line in listing.splitlines() if line.startswith(f"| `{folder}/`"))
        assert re.search(r"\| v\d+\.\d+\.\d+ \| [0-9a-f]{40} \|", row), row

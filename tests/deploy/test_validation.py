"""The rendered built-in kinds validate strictly against the Kubernetes 1.32 schemas.

kubernetes-validate lives in its own virtualenv (.venv-deploy, made by ``make check-deploy``), so
this test is skipped where that is missing; ``make check-deploy`` sets
WERKBANK_REQUIRE_DEPLOY_TOOLS=1, and there a missing tool fails instead.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.deploy.rendering import REPO, TARGETS, write
from tests.deploy.tools import tool

KUBERNETES_VERSION = "1.32.0"


def test_the_built_in_kinds_validate_strictly(tmp_path: Path) -> None:
    validate = tool("kubernetes-validate")
    write(tmp_path)
    core = sorted((tmp_path / "core").glob("*.yaml"))
    assert [p.stem for p in core] == sorted(TARGETS)
    result = subprocess.run(
        [str(validate), "--strict", "--quiet", "-k", KUBERNETES_VERSION, *map(str, core)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_finds_nothing(tmp_path: Path) -> None:
    checkov = tool("checkov")
    write(tmp_path)
    result = subprocess.run(
        [
            str(checkov),
            "--config-file",
            str(REPO / "deploy" / "k8s" / "checkov.yaml"),
            "-d",
            str(tmp_path / "all"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed checks: 0" in result.stdout

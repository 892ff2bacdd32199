"""The deploy tools (kubernetes-validate, checkov, promtool, jsonschema) live in ``.venv-deploy``.

``make check-deploy`` creates it and sets WERKBANK_REQUIRE_DEPLOY_TOOLS=1: there a missing tool
fails the test. Under a plain ``make test`` (no ``.venv-deploy``) the tests that need one skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.deploy.rendering import REPO

TOOLS = REPO / ".venv-deploy" / "bin"


def tool(name: str) -> Path:
    path = TOOLS / name
    if not path.exists():
        if os.environ.get("WERKBANK_REQUIRE_DEPLOY_TOOLS") == "1":
            pytest.fail(f"{path} is missing: make check-deploy installs it")
        pytest.skip(f"{name} is not installed (make check-deploy installs it into .venv-deploy)")
    return path

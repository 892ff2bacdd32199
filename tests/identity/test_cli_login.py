"""`werkbank login`: the CLI gets a token from the provider and the services accept it."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.support.harness import RunningService
from werkbank.idp import CLI_CLIENT_ID
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


async def _werkbank(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from werkbank.cli import main; main()", *args,
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, output.decode(errors="replace")


async def test_login_stores_a_token_that_the_staff_api_accepts(
    matching: RunningService, stack: StackInfo, tmp_path: Path
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("WERKBANK_TOKEN", "WERKBANK_STAFF_TOKEN")
    }
    env |= {"XDG_CONFIG_HOME": str(tmp_path / "config"), "WERKBANK_MATCHING_URL": matching.base_url}
    secret = stack.oidc_clients[CLI_CLIENT_ID]

    code, output = await _werkbank(["needs", "--json"], env, tmp_path)
    assert code == 2, output  # not signed in: no token anywhere

    login = ["login", "--issuer", stack.oidc_issuer]
    code, output = await _werkbank(login, env | {"WERKBANK_CLIENT_SECRET": "falsch"}, tmp_path)
    assert code == 1, output

    code, output = await _werkbank(login, env | {"WERKBANK_CLIENT_SECRET": secret}, tmp_path)
    assert code == 0, output
    stored = tmp_path / "config" / "werkbank" / "token.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    kept = json.loads(stored.read_text(encoding="utf-8"))
    assert kept["client_id"] == CLI_CLIENT_ID
    assert secret not in stored.read_text(encoding="utf-8")

    # The matching service here accepts only the provider's tokens (no static token).
    code, output = await _werkbank(["needs", "--json"], env, tmp_path)
    assert code == 0, output
    assert isinstance(json.loads(output), list)

    code, output = await _werkbank(["logout"], env, tmp_path)
    assert code == 0
    assert not stored.exists()

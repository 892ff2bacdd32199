"""Schemathesis against each service's OpenAPI, with the real servers: no server error, and
every answer (status, content type, body) as the OpenAPI documents it.

A bounded number of examples per operation, with a fixed seed, keeps it within CI's time; the
three services are fuzzed at once (each schemathesis process takes seconds to start).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.hardening.conftest import TOKEN
from tests.support.harness import RunningService

pytestmark = pytest.mark.integration
EXAMPLES = int(os.environ.get("WERKBANK_FUZZ_EXAMPLES", "5"))
# The coverage phase (every boundary of every field: about 2,400 cases over the three
# services) is for a deeper run: WERKBANK_FUZZ_PHASES=examples,coverage,fuzzing.
PHASES = os.environ.get("WERKBANK_FUZZ_PHASES", "examples,fuzzing")
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)


async def fuzz(service: RunningService, report: Path) -> tuple[int, str]:
    st = Path(sys.executable).with_name("st")
    report.mkdir(parents=True)
    async with service.client() as client:
        (report / "openapi.json").write_bytes((await client.get("/openapi.json")).content)
    process = await asyncio.create_subprocess_exec(
        str(st),
        "run",
        str(report / "openapi.json"),
        "--url",
        service.base_url,
        "--checks",
        CHECKS,
        "--phases",
        PHASES,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "16",
        "--workers",
        "1",
        "--no-shrink",
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--report",
        "ndjson",
        "--report-dir",
        str(report),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
        cwd=report,  # its cache (.schemathesis/) stays out of the repository
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


async def test_no_server_error_and_every_answer_as_documented(
    matching: RunningService, booking: RunningService, notify: RunningService, tmp_path: Path
) -> None:
    services = {"matching": matching, "booking": booking, "notify": notify}
    results = await asyncio.gather(
        *(fuzz(service, tmp_path / name) for name, service in services.items())
    )
    for name, (_, output) in zip(services, results, strict=True):
        summary = [
            line
            for line in output.splitlines()
            if "generated" in line or "found in" in line or "Loaded" in line
        ]
        print(name, summary)  # noqa: T201
    failed = {
        name: output[-5000:]
        for name, (code, output) in zip(services, results, strict=True)
        if code != 0
    }
    assert not failed, "\n\n".join(f"--- {name}\n{output}" for name, output in failed.items())

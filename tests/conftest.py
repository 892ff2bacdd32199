"""Session fixtures: the real servers start once per test session, and only when needed."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import asyncpg
import psutil
import pytest

from werkbank.stack import EmbeddedStack, StackInfo


def _processes_under(root: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "pid"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if root in cmdline and proc.pid != os.getpid():
            found.append(proc)
    return found


@pytest.fixture(scope="session")
def running_stack() -> Iterator[EmbeddedStack]:
    """The embedded stack itself, for tests that restart one of its servers."""
    embedded = EmbeddedStack()
    info = embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()
        leftovers = _processes_under(info.root)
        embedded.remove()
        assert not leftovers, f"processes survived the stack: {leftovers}"


@pytest.fixture(scope="session")
def stack(running_stack: EmbeddedStack) -> StackInfo:
    assert running_stack.info is not None
    return running_stack.info


@pytest.fixture(scope="session")
def embedded_stack(stack: StackInfo) -> StackInfo:
    return stack


@pytest.fixture
async def db(stack: StackInfo) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.database_url)
    try:
        yield conn
    finally:
        await conn.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the servers are integration tests; all others are unit tests."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "stack" in fixtures and not item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.integration)
        elif not item.get_closest_marker("integration") and not item.get_closest_marker("unit"):
            item.add_marker(pytest.mark.unit)

"""The architecture, checked: pure domains, and no service imports another."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("matching", "booking", "notify")
IO_PACKAGES = (
    "asyncpg",
    "faststream",
    "nats",
    "fastapi",
    "httpx",
    "aiosmtplib",
    "uvicorn",
    "shared.db",
)


def imported_modules(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_of_each_service_is_free_of_io(service: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files(ROOT / "services" / service / "domain")
        for module in imported_modules(path)
        if module.split(".")[0] in IO_PACKAGES or module.startswith(IO_PACKAGES)
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another(service: str) -> None:
    others = tuple(f"services.{other}" for other in SERVICES if other != service)
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files(ROOT / "services" / service)
        for module in imported_modules(path)
        if module.startswith(others)
    ]
    assert offenders == []


def test_the_shared_package_knows_no_service() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files(ROOT / "shared")
        for module in imported_modules(path)
        if module.startswith(("services", "werkbank", "tests"))
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_layout(service: str) -> None:
    folder = ROOT / "services" / service
    for name in (
        "domain",
        "handlers.py",
        "api.py",
        "repository.py",
        "settings.py",
        "app.py",
        "migrations",
    ):
        assert (folder / name).exists(), f"services/{service}/{name} is missing"

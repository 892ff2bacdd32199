"""compose.yaml is consistent: Docker cannot run here, so its structure is checked instead."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("matching", "booking", "notify")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return document


def test_every_service_has_an_image_or_a_build_whose_dockerfile_exists(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        assert "image" in service or "build" in service, name
        if "build" in service:
            assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).exists()


def test_every_dependency_exists_and_waits_for_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"}
            assert "healthcheck" in services[dependency]


def test_every_service_has_a_health_check_and_host_ports_do_not_collide(
    compose: dict[str, Any],
) -> None:
    host_ports: list[str] = []
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"], name
        host_ports += [str(port).split(":")[0] for port in service.get("ports", [])]
    assert len(host_ports) == len(set(host_ports))


@pytest.mark.parametrize("name", SERVICES)
def test_the_environment_matches_each_settings_class(compose: dict[str, Any], name: str) -> None:
    settings_module = importlib.import_module(f"services.{name}.settings")
    settings_class = getattr(settings_module, f"{name.capitalize()}Settings")
    prefix = settings_class.model_config["env_prefix"]
    environment = compose["services"][name]["environment"]
    for variable in environment:
        assert variable.startswith(prefix), variable
        assert variable.removeprefix(prefix).lower() in settings_class.model_fields, variable
    assert f"{prefix}NATS_URL" in environment
    assert f"{prefix}DATABASE_URL" in environment
    assert compose["services"][name]["ports"] == [f"808{SERVICES.index(name) + 1}:8080"]

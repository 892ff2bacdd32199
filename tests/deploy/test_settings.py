"""Every variable the manifests give a service is one of its settings, with a value it accepts.

The settings classes ignore unknown variables (``extra="ignore"``), so a misspelt key in a
ConfigMap would be dropped without a word and the default used. Here each container of a
werkbank Deployment is checked: the keys of the ConfigMaps and Secrets it loads (``envFrom``)
and its own ``env`` entries must be settings of the service its image runs, and the whole
environment (Secret values from ``secrets.example.sh``) must validate.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from services.booking.settings import BookingSettings
from services.console.settings import ConsoleSettings
from services.matching.settings import MatchingSettings
from services.notify.settings import NotifySettings
from shared.settings import ServiceSettings
from tests.deploy.rendering import render
from tests.deploy.test_secrets_script import run as secrets_of

SETTINGS: dict[str, type[ServiceSettings]] = {
    "werkbank-matching": MatchingSettings,
    "werkbank-booking": BookingSettings,
    "werkbank-notify": NotifySettings,
    "werkbank-console": ConsoleSettings,
}
NAMESPACE = {"prod": "werkbank", "dev": "werkbank-dev"}


def variables(settings: type[BaseSettings]) -> set[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


def indirect_keys(docs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(Secret, key) read one by one into a variable of another name (the migration URL)."""
    found = set()
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        for container in pod["containers"] + pod.get("initContainers", []):
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["key"] != variable["name"]:
                    found.add((ref["name"], ref["key"]))
    return found


def environments(
    docs: list[dict[str, Any]], secrets: dict[str, dict[str, str]]
) -> Iterator[tuple[str, type[ServiceSettings], dict[str, str]]]:
    """Per werkbank container: where it is, its settings class and its environment. Keys it
    reads in bulk from a Secret only to pass on under another name (the migration URL) are
    left out."""
    maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    indirect = indirect_keys(docs)
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        for container in pod["containers"] + pod.get("initContainers", []):
            image = container["image"].rpartition(":")[0].partition("@")[0]
            settings = SETTINGS.get(image)
            if settings is None:
                continue
            where = f"{doc['metadata']['name']}/{container['name']}"
            environment: dict[str, str] = {}
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    environment.update(maps[source["configMapRef"]["name"]])
                if "secretRef" in source:
                    name = source["secretRef"]["name"]
                    environment.update(
                        (key, value)
                        for key, value in secrets[name].items()
                        if (name, key) not in indirect
                    )
            for variable in container.get("env", []):
                if "value" in variable:
                    environment[variable["name"]] = variable["value"]
                elif ref := variable.get("valueFrom", {}).get("secretKeyRef"):
                    environment[variable["name"]] = secrets[ref["name"]][ref["key"]]
            yield where, settings, environment


def unknown_variables(
    where: str, settings: type[ServiceSettings], environment: dict[str, str]
) -> list[str]:
    known = variables(settings)
    return [
        f"{where}: {key} is no setting of {settings.__name__}"
        for key in sorted(environment)
        if key not in known
    ]


def invalid_values(
    where: str,
    settings: type[ServiceSettings],
    environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    with monkeypatch.context() as patched:
        prefix = str(settings.model_config.get("env_prefix", ""))
        for key in [k for k in os.environ if k.startswith(prefix)]:
            patched.delenv(key)
        for key, value in environment.items():
            patched.setenv(key, value)
        try:
            settings()
        except ValidationError as exc:
            return [
                f"{where}: {prefix}{'.'.join(map(str, error['loc'])).upper()}: {error['msg']}"
                for error in exc.errors()
            ]
    return []


@pytest.mark.parametrize("overlay", ["prod", "dev"])
def test_every_variable_is_a_setting_with_a_valid_value(
    overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = render(overlay)
    secrets = {
        name: data
        for (namespace, name), data in secrets_of(overlay).items()
        if namespace == NAMESPACE[overlay]
    }
    problems: list[str] = []
    checked = set()
    for where, settings, environment in environments(docs, secrets):
        checked.add(settings)
        problems += unknown_variables(where, settings, environment)
        problems += invalid_values(where, settings, environment, monkeypatch)
    assert problems == []
    assert checked == set(SETTINGS.values())


def test_a_misspelt_key_or_a_bad_value_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {"MATCHING_BATCH_IN_API": "false", "MATCHING_DB_POOL_MAXX": "4"}
    assert unknown_variables("matching/matching", MatchingSettings, environment) == [
        "matching/matching: MATCHING_DB_POOL_MAXX is no setting of MatchingSettings"
    ]
    bad = {"MATCHING_BATCH_IN_API": "perhaps", "MATCHING_DB_POOL_MAX": "0"}
    found = invalid_values("matching/matching", MatchingSettings, bad, monkeypatch)
    assert {problem.split(":")[1].strip() for problem in found} == set(bad)

"""The alert rules load in Prometheus (promtool check rules) and do what each says (promtool test
rules with tests/deploy/alerts/werkbank_test.yaml: every alert fires when it should, with its text,
and stays quiet when it should not).

promtool comes from ``make check-deploy`` (deploy/install-promtool.sh), into ``.venv-deploy``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

from shared.events.streams import BOOKING_ON_MATCHING
from shared.messaging.consumer import DeliveryGuard
from tests.deploy.rendering import REPO, render
from tests.deploy.tools import tool

UNIT_TESTS = REPO / "tests" / "deploy" / "alerts" / "werkbank_test.yaml"


def rule_spec() -> dict[str, Any]:
    [rule] = [doc for doc in render("prod") if doc["kind"] == "PrometheusRule"]
    spec: dict[str, Any] = rule["spec"]
    return spec


def alert_names() -> set[str]:
    return {r["alert"] for group in rule_spec()["groups"] for r in group["rules"] if "alert" in r}


def promtool(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "werkbank-rules.yaml").write_text(yaml.safe_dump(rule_spec()), encoding="utf-8")
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    return subprocess.run(
        [str(tool("promtool")), *args], cwd=tmp_path, capture_output=True, text=True, check=False
    )


def test_the_rules_load(tmp_path: Path) -> None:
    result = promtool(tmp_path, "check", "rules", "werkbank-rules.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_names())} rules found" in result.stdout


def test_every_alert_passes_its_unit_tests(tmp_path: Path) -> None:
    result = promtool(tmp_path, "test", "rules", UNIT_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_test_that_fires_it_and_one_that_does_not() -> None:
    tests = yaml.safe_load(UNIT_TESTS.read_text(encoding="utf-8"))["tests"]
    cases = [case for test in tests for case in test["alert_rule_test"]]
    firing = {case["alertname"] for case in cases if case["exp_alerts"]}
    quiet = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert firing == alert_names()
    assert quiet == alert_names()


def test_alert_texts_format_their_numbers() -> None:
    """A raw $value prints increase()'s extrapolation: "dead-lettered 1.0000000002 events"."""
    for group in rule_spec()["groups"]:
        for rule in group["rules"]:
            summary = rule["annotations"]["summary"]
            for use in summary.split("{{")[1:]:
                expression = use.split("}}")[0]
                if "$value" in expression:
                    assert "humanize" in expression or "printf" in expression, summary


def test_each_consumer_counts_its_dead_letters_from_zero() -> None:
    """With the series at 0 from a consumer's start, increase() catches the first dead letter too
    (the alert's second half catches it where a series still starts at 1)."""
    spec = replace(BOOKING_ON_MATCHING, durable="booking-on-matching-alert-test")
    labels = {"service": spec.service, "consumer": spec.durable}
    assert REGISTRY.get_sample_value("werkbank_dead_letters_total", labels) is None
    DeliveryGuard(spec)
    assert REGISTRY.get_sample_value("werkbank_dead_letters_total", labels) == 0.0

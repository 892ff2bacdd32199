"""The Kubernetes manifests render with kubectl and keep the security baseline."""

from __future__ import annotations

import pytest

from tests.deploy.rendering import render


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_overlay_renders_a_deployment_service_and_budget_per_service(overlay: str) -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in render(overlay)}
    for service in ("matching", "booking", "notify"):
        assert {
            ("Deployment", service),
            ("Service", service),
            ("PodDisruptionBudget", service),
        } <= kinds
    assert ("NetworkPolicy", "default-deny") in kinds


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_container_runs_restricted_with_probes_and_limits(overlay: str) -> None:
    for doc in render(overlay):
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["terminationGracePeriodSeconds"] > 20
        assert [c["args"] for c in pod["initContainers"]] == [["migrate"]]
        for container in pod["containers"] + pod["initContainers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert container["resources"]["limits"]["memory"]
        [main] = pod["containers"]
        assert {"startupProbe", "livenessProbe", "readinessProbe"} <= set(main)


def test_prod_streams_have_three_replicas() -> None:
    maps = [doc for doc in render("prod") if doc["kind"] == "ConfigMap"]
    assert {
        value
        for doc in maps
        for key, value in doc["data"].items()
        if key.endswith("STREAM_REPLICAS")
    } == {"3"}

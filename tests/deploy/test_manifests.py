"""The Kubernetes manifests render with kubectl and keep the security and operations baseline."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.rendering import render

SERVICES = ("matching", "booking", "notify", "console")
WORKERS = ("matching-worker",)  # no Service, no traffic: matching's batch jobs
GRACEFUL_TIMEOUT_SECONDS = 20  # shared/settings.py, graceful_timeout_seconds


def werkbank_deployments(overlay: str) -> list[dict[str, Any]]:
    return [
        doc
        for doc in render(overlay)
        if doc["kind"] == "Deployment"
        and doc["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "werkbank"
    ]


def config(overlay: str, service: str) -> dict[str, str]:
    [found] = (
        doc
        for doc in render(overlay)
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == f"werkbank-{service}"
    )
    data: dict[str, str] = found["data"]
    return data


def named(overlay: str, kind: str, name: str) -> dict[str, Any]:
    [found] = (
        doc for doc in render(overlay) if doc["kind"] == kind and doc["metadata"]["name"] == name
    )
    return found


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_overlay_renders_a_deployment_and_service_per_service(overlay: str) -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in render(overlay)}
    for service in SERVICES:
        assert {("Deployment", service), ("Service", service)} <= kinds
    assert ("NetworkPolicy", "default-deny") in kinds


def test_prod_has_a_disruption_budget_per_service_and_dev_none_that_blocks_a_drain() -> None:
    budgets = {
        doc["metadata"]["name"] for doc in render("prod") if doc["kind"] == "PodDisruptionBudget"
    }
    assert budgets == set(SERVICES)
    assert not [doc for doc in render("dev") if doc["kind"] == "PodDisruptionBudget"]
    assert {d["spec"]["replicas"] for d in werkbank_deployments("dev")} == {1}


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_container_runs_restricted_with_probes_and_limits(overlay: str) -> None:
    deployments = werkbank_deployments(overlay)
    assert sorted(d["metadata"]["name"] for d in deployments) == sorted(SERVICES + WORKERS)
    for doc in deployments:
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert [c["args"] for c in pod["initContainers"]] == [["migrate"]]
        for container in pod["containers"] + pod["initContainers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert container["resources"]["limits"]["memory"]
        [main] = pod["containers"]
        assert {"startupProbe", "livenessProbe", "readinessProbe"} <= set(main)


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_a_stopping_pod_leaves_the_endpoints_then_drains_within_its_grace_period(
    overlay: str,
) -> None:
    for doc in werkbank_deployments(overlay):
        if doc["metadata"]["name"] in WORKERS:
            continue  # no endpoints to leave; it hands its job back at SIGTERM
        pod = doc["spec"]["template"]["spec"]
        [main] = pod["containers"]
        delay = main["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert delay >= 3, doc["metadata"]["name"]
        assert delay + GRACEFUL_TIMEOUT_SECONDS < pod["terminationGracePeriodSeconds"]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_replicas_spread_over_nodes_and_zones(overlay: str) -> None:
    for doc in werkbank_deployments(overlay):
        pod = doc["spec"]["template"]["spec"]
        keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
        assert "kubernetes.io/hostname" in keys, doc["metadata"]["name"]
        for constraint in pod["topologySpreadConstraints"]:
            selector = constraint["labelSelector"]["matchLabels"]
            assert selector.items() <= doc["spec"]["template"]["metadata"]["labels"].items()


def test_dev_uses_local_images_and_prod_rechecks_the_registry() -> None:
    for overlay, policy in (("dev", "IfNotPresent"), ("prod", "Always")):
        for doc in werkbank_deployments(overlay):
            pod = doc["spec"]["template"]["spec"]
            for container in pod["containers"] + pod["initContainers"]:
                assert container["imagePullPolicy"] == policy, (overlay, doc["metadata"]["name"])


def test_dev_has_its_own_nats_database_and_mail() -> None:
    for service in SERVICES:
        assert config("dev", service)[f"{service.upper()}_NATS_URL"] == (
            "nats://nats.werkbank-dev.svc:4222"
        )
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in render("dev")}
    assert {("StatefulSet", "postgres"), ("Deployment", "mailpit")} <= kinds
    assert config("dev", "notify")["NOTIFY_SMTP_HOST"] == "mailpit"
    assert all(doc["metadata"].get("namespace") == "werkbank-dev" for doc in render("dev"))


def test_prod_streams_have_three_replicas_and_speak_tls_to_nats() -> None:
    for service in SERVICES:
        data = config("prod", service)
        prefix = service.upper()
        assert data[f"{prefix}_STREAM_REPLICAS"] == "3"
        assert data[f"{prefix}_NATS_URL"].startswith("tls://")
        ca = data[f"{prefix}_NATS_TLS_CA"]
        deployment = named("prod", "Deployment", service)
        [main] = deployment["spec"]["template"]["spec"]["containers"]
        mounts = {m["mountPath"] for m in main["volumeMounts"]}
        assert ca.rpartition("/")[0] in mounts


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_the_ingress_serves_the_links_in_the_invitations_and_the_console(overlay: str) -> None:
    ingress = named(overlay, "Ingress", "werkbank")
    routes = {
        (rule["host"], path["path"]): path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    attendee = urlsplit(config(overlay, "booking")["BOOKING_PUBLIC_BASE_URL"])
    console = urlsplit(config(overlay, "console")["CONSOLE_PUBLIC_BASE_URL"])
    assert attendee.hostname != "127.0.0.1"
    assert routes[(attendee.hostname, "/rsvp")] == "booking"
    assert routes[(attendee.hostname, "/feedback")] == "booking"
    assert routes[(attendee.hostname, "/feeds")] == "booking"  # webcal subscriptions
    assert routes[(console.hostname, "/")] == "console"
    assert not any(path.startswith("/api") for _, path in routes), "staff APIs stay internal"
    if overlay == "prod":
        assert attendee.scheme == console.scheme == "https"
        assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
        tls_hosts = {host for entry in ingress["spec"]["tls"] for host in entry["hosts"]}
        assert tls_hosts == {attendee.hostname, console.hostname}
        assert config(overlay, "console")["CONSOLE_SECURE_COOKIES"] == "true"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_service_validates_tokens_of_the_identity_provider(overlay: str) -> None:
    issuers = set()
    for service in SERVICES:
        data = config(overlay, service)
        prefix = service.upper()
        issuers.add(data[f"{prefix}_OIDC_ISSUER"])
        assert data[f"{prefix}_OIDC_AUDIENCE"] == "werkbank"
        assert data[f"{prefix}_OIDC_ROLES_CLAIM"] == "realm_access.roles"
        assert data.get(f"{prefix}_STATIC_TOKEN_ENABLED", "false") == "false"
        assert f"{prefix}_STAFF_TOKEN" not in data
    [issuer] = issuers
    assert issuer.endswith("/realms/werkbank")
    assert config(overlay, "console")["CONSOLE_OIDC_CLIENT_ID"] == "werkbank-console"


def egress_ports(overlay: str, app: str) -> set[int]:
    ports = set()
    for doc in render(overlay):
        if doc["kind"] != "NetworkPolicy":
            continue
        selector = doc["spec"]["podSelector"]
        if selector.get("matchLabels", {}).get("app.kubernetes.io/name") == app:
            for rule in doc["spec"].get("egress", []):
                ports |= {port["port"] for port in rule.get("ports", [])}
    return ports


def test_booking_may_reach_imap_and_caldav_and_notify_smtp() -> None:
    assert {993, 143, 443} <= egress_ports("prod", "booking")
    assert {25, 465, 587} <= egress_ports("prod", "notify")
    assert config("prod", "booking")["BOOKING_IMAP_PORT"] in {"993", "143"}


def mebibytes(quantity: str) -> int:
    units = {"Mi": 1, "Gi": 1024}
    return int(float(quantity[:-2]) * units[quantity[-2:]])


def resources(overlay: str, deployment: str) -> tuple[dict[str, Any], dict[str, Any]]:
    [main] = named(overlay, "Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return main, main["resources"]


def test_batches_run_in_the_worker_and_the_api_pods_stay_small() -> None:
    """Measured (issue 18, bench/bench_batch_job.py): the index of 100k providers 205 MiB; for a
    10k x 10k batch the worker's child process peaks at 500 MB, the worker process beside it
    (the loaded inputs) at 248 MB. The API pods only queue batch jobs."""
    index, interpreter, batch_child, worker_parent = 205, 150, 500, 250
    for overlay in ("dev", "prod"):
        assert config(overlay, "matching")["MATCHING_BATCH_IN_API"] == "false"
    api, api_resources = resources("prod", "matching")
    assert mebibytes(api_resources["requests"]["memory"]) >= index + interpreter
    assert mebibytes(api_resources["limits"]["memory"]) <= 1024, "no batch in the API pod"
    assert api["livenessProbe"]["periodSeconds"] * api["livenessProbe"]["failureThreshold"] >= 60
    worker, worker_resources = resources("prod", "matching-worker")
    assert worker["args"] == ["worker"]
    port = {e["name"]: e["value"] for e in worker["env"]}["MATCHING_WORKER_HTTP_PORT"]
    assert [int(port)] == [p["containerPort"] for p in worker["ports"]]
    peak = batch_child + worker_parent + 2 * index  # 100k providers: in the child and the worker
    assert mebibytes(worker_resources["requests"]["memory"]) >= batch_child + worker_parent
    assert mebibytes(worker_resources["limits"]["memory"]) >= peak

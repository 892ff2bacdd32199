"""The custom resources (KEDA, CloudNativePG, prometheus-operator, Grafana) fit the services.

No cluster and no CRD schemas here: these tests check what a schema could not, that the
resources agree with the code (consumers, streams, metric names) and with each other (selectors,
ports, Secret names).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from shared.events.streams import BOOKING_ON_MATCHING, MATCHING_ON_BOOKING, NOTIFY_ON_BOOKING
from tests.deploy.rendering import DEPLOY, REPO, is_core, render

SERVICES = ("matching", "booking", "notify")  # scaled by KEDA on their consumer's lag
DATABASE_USERS = (*SERVICES, "console")  # a role and a schema each
CONSUMER_OF = {
    "matching": MATCHING_ON_BOOKING,
    "booking": BOOKING_ON_MATCHING,
    "notify": NOTIFY_ON_BOOKING,
}
# Metrics that prometheus-nats-exporter provides (NATS Helm chart: -jsz=all -prefix=nats).
EXPORTER_METRICS = {"nats_consumer_num_pending", "nats_consumer_num_ack_pending"}
# What the dashboard must show (issue 7): rates, latency, lag, dead letters, outbox.
DASHBOARD_METRICS = {
    "werkbank_events_handled_total",
    "werkbank_handler_seconds_bucket",
    "nats_consumer_num_pending",
    "werkbank_dead_letters_total",
    "werkbank_outbox_published_total",
    "werkbank_outbox_pending",
}


@cache
def prod() -> tuple[dict[str, Any], ...]:
    return tuple(render("prod"))


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in prod() if doc["kind"] == kind}


@cache
def defined_metrics() -> set[str]:
    """Metric names the code registers with prometheus_client, with the histogram series."""
    names: set[str] = set()
    pattern = re.compile(r'(Counter|Histogram|Gauge)\(\s*"(werkbank_[a-z_]+)"', re.MULTILINE)
    for folder in ("shared", "services"):
        for path in (REPO / folder).rglob("*.py"):
            for kind, name in pattern.findall(path.read_text(encoding="utf-8")):
                names.add(name)
                if kind == "Histogram":
                    names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def metrics_in(expr: str) -> set[str]:
    return set(re.findall(r"\b((?:werkbank|nats)_[a-z_]+)\b", expr))


def test_every_service_has_a_scaled_object_on_its_own_durable_consumer() -> None:
    scaled = of_kind("ScaledObject")
    deployments = of_kind("Deployment")
    assert set(scaled) == set(SERVICES)
    for service, obj in scaled.items():
        spec = obj["spec"]
        assert spec["scaleTargetRef"]["name"] in deployments
        assert 2 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        [trigger] = spec["triggers"]
        assert trigger["type"] == "nats-jetstream"
        metadata = trigger["metadata"]
        assert {
            "natsServerMonitoringEndpoint",
            "account",
            "stream",
            "consumer",
            "lagThreshold",
        } <= set(metadata)
        consumer = CONSUMER_OF[service]
        assert metadata["stream"] == consumer.stream.name
        assert metadata["consumer"] == consumer.durable
        assert metadata["account"] == "$G"  # the users live in the global account
        assert metadata["natsServerMonitoringEndpoint"].endswith(":8222")
        assert all(isinstance(value, str) for value in metadata.values())
        assert int(metadata["lagThreshold"]) > 0


def test_the_postgres_cluster_has_three_instances_and_a_plain_role_per_service() -> None:
    [cluster] = of_kind("Cluster").values()
    spec = cluster["spec"]
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert spec["instances"] == 3
    assert spec["storage"]["size"]
    roles = {role["name"]: role for role in spec["managed"]["roles"]}
    assert set(roles) == set(DATABASE_USERS)
    for name, role in roles.items():
        assert role["login"] is True
        assert role["ensure"] == "present"
        for power in ("superuser", "createdb", "createrole", "replication", "bypassrls"):
            assert role[power] is False, (name, power)
        assert role["passwordSecret"]["name"] == f"werkbank-pg-{name}"
    sql = "\n".join(spec["bootstrap"]["initdb"]["postInitApplicationSQL"])
    for service in DATABASE_USERS:
        assert f"CREATE SCHEMA IF NOT EXISTS {service} AUTHORIZATION {service}" in sql
    assert "REVOKE ALL ON SCHEMA public FROM PUBLIC" in sql
    assert "REVOKE ALL ON SCHEMA matching, booking, notify, console FROM PUBLIC" in sql


def test_backups_go_through_the_barman_cloud_plugin() -> None:
    """Not the in-tree barmanObjectStore, which CloudNativePG 1.31 removes."""
    [cluster] = of_kind("Cluster").values()
    spec = cluster["spec"]
    assert "backup" not in spec
    [plugin] = spec["plugins"]
    assert plugin["name"] == "barman-cloud.cloudnative-pg.io"
    assert plugin["isWALArchiver"] is True
    [store] = of_kind("ObjectStore").values()
    assert plugin["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    configuration = store["spec"]["configuration"]
    assert configuration["destinationPath"].startswith("s3://")
    credentials = configuration["s3Credentials"].values()
    assert {ref["name"] for ref in credentials} == {"werkbank-pg-backup"}
    assert store["spec"]["retentionPolicy"] == "30d"
    [scheduled] = of_kind("ScheduledBackup").values()
    assert scheduled["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert scheduled["spec"]["method"] == "plugin"
    assert scheduled["spec"]["pluginConfiguration"]["name"] == plugin["name"]
    assert len(scheduled["spec"]["schedule"].split()) == 6  # CNPG: seconds first
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert "barmanObjectStore:" not in readme, "the restore recipe still uses the in-tree store"


def test_the_services_use_their_own_nats_users() -> None:
    maps = of_kind("ConfigMap")
    for service in DATABASE_USERS:
        data = maps[f"werkbank-{service}"]["data"]
        assert data[f"{service.upper()}_NATS_USER"] == service


def test_each_service_monitor_selects_its_service_and_scrapes_the_http_port() -> None:
    monitors = of_kind("ServiceMonitor")
    services = of_kind("Service")
    assert set(monitors) == set(DATABASE_USERS)
    for name, monitor in monitors.items():
        selector = monitor["spec"]["selector"]["matchLabels"]
        selected = [
            svc
            for svc in services.values()
            if selector.items() <= svc["metadata"].get("labels", {}).items()
        ]
        assert [svc["metadata"]["name"] for svc in selected] == [name]
        [endpoint] = monitor["spec"]["endpoints"]
        assert endpoint["path"] == "/metrics"
        assert endpoint["port"] in {port["name"] for port in selected[0]["spec"]["ports"]}


def test_every_alert_has_an_expression_on_metrics_that_exist() -> None:
    [rule] = of_kind("PrometheusRule").values()
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"] if "alert" in r]
    names = {alert["alert"] for alert in alerts}
    assert {"WerkbankConsumerLagHigh", "WerkbankDeadLetters", "WerkbankDeliveriesFailing"} <= names
    for alert in alerts:
        assert alert["expr"].strip(), alert["alert"]
        assert alert["labels"]["severity"] in {"warning", "critical"}
        assert alert["annotations"]["summary"]
        unknown = metrics_in(alert["expr"]) - defined_metrics() - EXPORTER_METRICS
        assert not unknown, (alert["alert"], unknown)


def test_the_dashboard_loads_and_charts_each_metric() -> None:
    [config_map] = (
        doc
        for doc in prod()
        if doc["kind"] == "ConfigMap" and doc["metadata"].get("labels", {}).get("grafana_dashboard")
    )
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    [(filename, text)] = config_map["data"].items()
    assert filename.endswith(".json")
    dashboard = json.loads(text)
    assert dashboard["uid"] == "werkbank"
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    charted = set().union(*(metrics_in(expr) for expr in exprs))
    assert charted >= DASHBOARD_METRICS
    assert not charted - defined_metrics() - EXPORTER_METRICS
    assert any(panel.get("repeat") == "service" for panel in dashboard["panels"]), (
        "a row of panels per service"
    )
    [service_var] = (v for v in dashboard["templating"]["list"] if v["name"] == "service")
    assert set(service_var["query"].split(",")) == set(SERVICES)


def test_the_dashboard_file_is_the_one_in_the_config_map() -> None:
    path = DEPLOY / "components" / "monitoring" / "dashboards" / "werkbank.json"
    [config_map] = (doc for doc in prod() if doc["metadata"]["name"] == "werkbank-dashboard")
    assert json.loads(config_map["data"]["werkbank.json"]) == json.loads(path.read_text("utf-8"))


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_images_have_a_fixed_tag(overlay: str) -> None:
    for doc in render(overlay):
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        for container in pod["containers"] + pod.get("initContainers", []):
            name, _, tag = container["image"].rpartition(":")
            assert name, container["image"]
            assert tag not in {"", "latest"}, container["image"]


def test_the_dev_overlay_needs_no_operator() -> None:
    assert all(is_core(doc) for doc in render("dev"))


def test_keda_alone_sets_the_prod_replica_counts() -> None:
    scaled = {obj["spec"]["scaleTargetRef"]["name"] for obj in of_kind("ScaledObject").values()}
    for name, deployment in of_kind("Deployment").items():
        if name in scaled:
            assert "replicas" not in deployment["spec"], f"kubectl apply would reset {name}'s HPA"
        else:
            assert deployment["spec"]["replicas"] >= 1, name
    assert scaled == set(SERVICES)
    assert all(obj["spec"]["minReplicaCount"] >= 2 for obj in of_kind("ScaledObject").values())

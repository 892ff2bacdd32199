"""PostgreSQL connections suffice when the services scale out (issue 18, item 2).

Each pod opens up to ``<P>DB_POOL_MAX`` connections as its service's role. At the most, a
Deployment runs KEDA's ``maxReplicaCount`` (else its ``replicas``) plus ``maxSurge`` pods of a
rolling update. Per role, that must fit the role's connection limit; all limits together, plus
PostgreSQL's reserved superuser connections and headroom for operators, must fit
``max_connections``. No PgBouncer: the services set ``search_path`` as a startup parameter and the
outbox relay LISTENs, neither of which survives transaction pooling.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest

from services.notify.settings import NotifySettings
from tests.deploy.rendering import DEPLOY, render

SUPERUSER_RESERVED = 3  # PostgreSQL's default superuser_reserved_connections
HEADROOM = 10  # kubectl cnpg psql, a migration run by hand, the exporter's spare


@dataclass(frozen=True)
class Demand:
    deployment: str
    role: str
    pods: int
    pool: int

    @property
    def connections(self) -> int:
        return self.pods * self.pool


def demands(docs: list[dict[str, Any]]) -> list[Demand]:
    maps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    scaled = {
        d["spec"]["scaleTargetRef"]["name"]: d["spec"]["maxReplicaCount"]
        for d in docs
        if d["kind"] == "ScaledObject"
    }
    found = []
    for doc in docs:
        if doc["kind"] != "Deployment" or "migrate" not in str(doc["spec"]["template"]):
            continue
        name = doc["metadata"]["name"]
        [main] = doc["spec"]["template"]["spec"]["containers"]
        [config_map] = [e["configMapRef"]["name"] for e in main["envFrom"] if "configMapRef" in e]
        role = config_map.removeprefix("werkbank-")
        key = f"{role.upper()}_DB_POOL_MAX"
        overrides = {e["name"]: e.get("value") for e in main.get("env", [])}
        pool = int(overrides.get(key) or maps[config_map][key])
        surge = doc["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        assert isinstance(surge, int), f"{name}: maxSurge as a number of pods, not a percentage"
        pods = scaled.get(name, doc["spec"].get("replicas", 1)) + surge
        found.append(Demand(name, role, pods, pool))
    return found


def shortfalls(needs: list[Demand], limits: dict[str, int], max_connections: int) -> list[str]:
    """Where the connections do not suffice, in words; empty when they do."""
    per_role: dict[str, int] = defaultdict(int)
    for need in needs:
        per_role[need.role] += need.connections
    found = [
        f"role {role}: {count} connections at the most, connection limit {limits.get(role)}"
        for role, count in sorted(per_role.items())
        if count > limits.get(role, 0)
    ]
    total = sum(limits.values()) + SUPERUSER_RESERVED + HEADROOM
    if total > max_connections:
        found.append(
            f"role limits + reserved + headroom = {total} > max_connections {max_connections}"
        )
    return found


def prod_cluster() -> dict[str, Any]:
    [cluster] = [doc for doc in render("prod") if doc["kind"] == "Cluster"]
    spec: dict[str, Any] = cluster["spec"]
    return spec


def test_prod_pools_fit_the_role_limits_and_max_connections() -> None:
    spec = prod_cluster()
    limits = {role["name"]: role["connectionLimit"] for role in spec["managed"]["roles"]}
    max_connections = int(spec["postgresql"]["parameters"]["max_connections"])
    needs = demands(render("prod"))
    assert {need.role for need in needs} == set(limits)
    assert {need.deployment for need in needs} >= {"matching", "booking", "notify", "console"}
    assert shortfalls(needs, limits, max_connections) == []
    booking = next(need for need in needs if need.deployment == "booking")
    assert booking.pods == 9 + 1  # KEDA's maximum and one surging pod


def test_dev_pools_fit_its_small_database() -> None:
    docs = render("dev")
    [postgres] = [
        d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "postgres"
    ]
    args = postgres["spec"]["template"]["spec"]["containers"][0]["args"]
    max_connections = int(args[args.index("-c") + 1].removeprefix("max_connections="))
    script = (DEPLOY / "overlays" / "dev" / "postgres-init.sh").read_text(encoding="utf-8")
    limits = {
        role: int(limit)
        for role, limit in re.findall(r"CREATE ROLE (\w+) LOGIN CONNECTION LIMIT (\d+)", script)
    }
    needs = demands(docs)
    assert {need.role for need in needs} == set(limits)
    assert shortfalls(needs, limits, max_connections) == []


def test_the_figures_of_the_review_are_reported_as_short() -> None:
    """Issue 18: booking 9 x 10 and notify 12 x 10 against 60 per role and 200 in all."""
    needs = [Demand("booking", "booking", 9, 10), Demand("notify", "notify", 12, 10)]
    limits = {"matching": 60, "booking": 60, "notify": 60, "console": 60}
    found = shortfalls(needs, limits, 200)
    assert found == [
        "role booking: 90 connections at the most, connection limit 60",
        "role notify: 120 connections at the most, connection limit 60",
        "role limits + reserved + headroom = 253 > max_connections 200",
    ]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_notify_keeps_the_connections_it_needs_at_once(overlay: str) -> None:
    pool = next(n.pool for n in demands(render(overlay)) if n.deployment == "notify")
    assert NotifySettings(db_pool_max=pool).db_pool_max == pool  # its minimum is 4

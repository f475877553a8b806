"""`cluster up --monitoring`: Prometheus on loopback scrapes every node, HAProxy and
every Redis (through its exporter, as a user that can read no key) with the repo's
alert rules, and a healthy cluster fires none of them."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import redis

from ha import cluster as clustermod

pytestmark = pytest.mark.ha


@pytest.fixture(scope="module")
def prometheus(cluster: clustermod.Cluster) -> str:
    url = clustermod.describe(cluster)["prometheus_url"]
    assert url, "the test cluster runs with --monitoring"
    return str(url)


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    r = httpx.get(prometheus + "/api/v1/query", params={"query": expr}, timeout=5)
    assert r.status_code == 200, r.text
    return list(r.json()["data"]["result"])


def wait_for(prometheus: str, expr: str, *, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = query(prometheus, expr)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(1)


def test_prometheus_scrapes_every_node_haproxy_and_redis(
        cluster: clustermod.Cluster, prometheus: str) -> None:
    up = wait_for(prometheus, 'count(up == 1) >= 7')
    assert up, query(prometheus, "up")
    jobs = {r["metric"]["job"]: 0 for r in query(prometheus, "up == 1")}
    for r in query(prometheus, "up == 1"):
        jobs[r["metric"]["job"]] += 1
    assert jobs == {"idportal": 3, "haproxy": 1, "redis": 3}
    roles = sorted(r["metric"]["role"] for r in query(prometheus, "redis_instance_info"))
    assert roles == ["master", "slave", "slave"]
    active = query(prometheus, 'haproxy_backend_active_servers{proxy="nodes"}')
    assert active and active[0]["value"][1] == "3"
    certs = {r["metric"]["certificate"] for r in query(
        prometheus, "idportal_certificate_expiry_timestamp_seconds")}
    assert {"bankid_client", "freja_client", "freja_signing", "card_ca", "front_door"} <= certs


def test_the_alert_rules_are_loaded_and_a_healthy_cluster_fires_none(prometheus: str) -> None:
    rules = httpx.get(prometheus + "/api/v1/rules", timeout=5).json()["data"]["groups"]
    names = {r["name"] for g in rules for r in g["rules"]}
    assert {"LoginErrorBudgetBurningFast", "RedisNoPrimary", "NodeDown", "FrejaErrors",
            "CertificateExpiresSoon"} <= names
    assert all(r["health"] == "ok" for g in rules for r in g["rules"]), rules
    firing = query(prometheus, 'ALERTS{alertstate="firing"}')
    assert not firing, firing


def test_the_exporters_redis_user_reads_no_key(cluster: clustermod.Cluster) -> None:
    r = redis.Redis(port=cluster.layout.redis[0], username="monitoring",
                    password=cluster.auth.password("monitoring"), socket_timeout=2)
    try:
        assert r.ping() and "redis_version" in r.info("server")
        for forbidden in (lambda: r.get("idp:anything"), lambda: r.keys("*"),
                          lambda: r.set("idp:x", "1"), lambda: r.config_set("maxmemory", "1")):
            with pytest.raises(redis.exceptions.NoPermissionError):
                forbidden()
    finally:
        r.close()


def test_prometheus_accepts_every_query_of_the_dashboard(prometheus: str) -> None:
    from ha import dashboard

    for expr in dashboard.queries():
        r = httpx.get(prometheus + "/api/v1/query", params={"query": expr}, timeout=5)
        assert r.status_code == 200 and r.json()["status"] == "success", (expr, r.text)

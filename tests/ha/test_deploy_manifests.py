"""The Kubernetes manifests in ha/deploy/ are checked offline against the API schemas."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "ha" / "deploy"
DOCS = [(p.name, i, d) for p in sorted(DEPLOY.glob("*.yaml"))
        for i, d in enumerate(yaml.safe_load_all(p.read_text())) if d]


@pytest.mark.parametrize(("name", "index", "doc"), DOCS, ids=[f"{n}#{i}" for n, i, _ in DOCS])
def test_manifest_is_valid_for_kubernetes(name: str, index: int, doc: dict[str, object]) -> None:
    kubernetes_validate.validate(doc, "1.30", strict=True)


def test_auth_nodes_have_probes_disruption_budget_autoscaler_and_anti_affinity() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for _, _, d in DOCS}  # type: ignore[index]
    assert {("Deployment", "auth-node"), ("PodDisruptionBudget", "auth-node"),
            ("HorizontalPodAutoscaler", "auth-node"), ("StatefulSet", "redis"),
            ("StatefulSet", "redis-sentinel"), ("Ingress", "idportal")} <= kinds
    dep = next(d for _, _, d in DOCS if d["kind"] == "Deployment")
    pod = dep["spec"]["template"]["spec"]  # type: ignore[index]
    c = pod["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert "podAntiAffinity" in pod["affinity"]


def test_nodes_trust_only_the_ingress_controllers_subnet_and_admit_nobody_else() -> None:
    import ipaddress
    import tomllib

    config = next(d for _, _, d in DOCS if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"] == "idportal-config")  # type: ignore[index]
    settings = tomllib.loads(config["data"]["idportal.toml"])  # type: ignore[index]
    nets = [ipaddress.ip_network(n) for n in settings["trusted_proxies"]]
    assert nets and all(n.num_addresses <= 256 for n in nets), nets  # never a whole 10/8
    assert settings["redis"]["username"] == "idportal"
    assert settings["redis"]["password_file"] and "password" not in settings["redis"]
    policy = next(d for _, _, d in DOCS if d["kind"] == "NetworkPolicy")
    rules = policy["spec"]["ingress"]  # type: ignore[index]
    assert [[p["port"] for p in r["ports"]] for r in rules] == [["http"], ["metrics"]]


def test_metrics_have_their_own_port_that_no_ingress_routes() -> None:
    ingress = next(d for _, _, d in DOCS if d["kind"] == "Ingress")
    ports = {p["backend"]["service"]["port"]["name"]  # type: ignore[index]
             for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}  # type: ignore[index]
    assert ports == {"http"}
    public = next(d for _, _, d in DOCS if d["kind"] == "Service"
                  and d["metadata"]["name"] == "auth-node")  # type: ignore[index]
    assert [p["name"] for p in public["spec"]["ports"]] == ["http"]  # type: ignore[index]


def test_redis_and_sentinel_require_authentication_from_a_secret() -> None:
    config = next(d for _, _, d in DOCS if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"] == "redis-config")  # type: ignore[index]
    data = config["data"]  # type: ignore[index]
    assert "aclfile /etc/redis-auth/users.acl" in data["redis.conf"]
    assert "masterauth $(cat /etc/redis-auth/replication.secret)" in data["init.sh"]
    assert "requirepass $(cat /etc/redis-auth/sentinels.secret)" in data["sentinel.sh"]
    assert "sentinel auth-user idportal sentinel" in data["sentinel.sh"]

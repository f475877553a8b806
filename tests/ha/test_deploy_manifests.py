"""The Kubernetes manifests in ha/deploy/ are checked offline against the API schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


# --- rules of our own ----------------------------------------------------------------

# Secrets an operator creates (ha/deploy/README.md): they hold secrets, never in the repo.
OPERATOR_SECRETS = {"idportal-signing-keys", "idportal-bankid-rp", "idportal-pin-register",
                    "idportal-redis-auth", "idportal-tls"}


def workloads() -> list[dict[str, Any]]:
    return [d for _, _, d in DOCS if d["kind"] in ("Deployment", "StatefulSet")]  # type: ignore[misc]


def pod_spec(w: dict[str, Any]) -> dict[str, Any]:
    return dict(w["spec"]["template"]["spec"])


def defined(kind: str) -> set[str]:
    return {d["metadata"]["name"] for _, _, d in DOCS if d["kind"] == kind}  # type: ignore[index]


def test_every_configmap_and_secret_a_pod_mounts_exists_or_is_the_operators() -> None:
    for w in workloads():
        for v in pod_spec(w).get("volumes", []):
            if "configMap" in v:
                assert v["configMap"]["name"] in defined("ConfigMap"), v
            if "secret" in v:
                name = v["secret"]["secretName"]
                assert name in defined("Secret") | OPERATOR_SECRETS, v
    assert "idportal-clients" in defined("Secret")
    readme = (DEPLOY / "README.md").read_text()
    assert all(f"`{s}`" in readme for s in OPERATOR_SECRETS)


def test_a_non_root_pod_can_read_the_secrets_it_mounts() -> None:
    for w in workloads():
        spec = pod_spec(w)
        secrets = [v["secret"] for v in spec.get("volumes", []) if "secret" in v]
        if not secrets:
            continue
        ctx = spec.get("securityContext", {})
        assert ctx.get("runAsNonRoot") and ctx.get("runAsUser", 0) != 0, w["metadata"]
        assert ctx.get("fsGroup"), f"{w['metadata']['name']}: secrets owned by root, no fsGroup"
        for s in secrets:
            assert s.get("defaultMode", 0o644) & 0o040, f"{s['secretName']} not group-readable"
            assert not s.get("defaultMode", 0o644) & 0o007, f"{s['secretName']} world-readable"


def test_the_autoscaler_owns_the_replica_count_and_a_rollout_cannot_stall() -> None:
    scaled = {d["spec"]["scaleTargetRef"]["name"] for _, _, d in DOCS  # type: ignore[index]
              if d["kind"] == "HorizontalPodAutoscaler"}
    for w in workloads():
        if w["kind"] != "Deployment":
            continue
        name = w["metadata"]["name"]
        if name in scaled:
            assert "replicas" not in w["spec"], f"{name}: replicas beside the HPA"
        required = pod_spec(w).get("affinity", {}).get("podAntiAffinity", {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution")
        unavailable = w["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"]
        assert not required or unavailable >= 1, f"{name}: a surge pod may find no host"


def test_every_workload_has_a_budget_that_allows_a_drain_and_a_network_policy() -> None:
    budgets = [d for _, _, d in DOCS if d["kind"] == "PodDisruptionBudget"]
    policies = [d for _, _, d in DOCS if d["kind"] == "NetworkPolicy"]
    hpa_min = {d["spec"]["scaleTargetRef"]["name"]: d["spec"]["minReplicas"]  # type: ignore[index]
               for _, _, d in DOCS if d["kind"] == "HorizontalPodAutoscaler"}
    for w in workloads():
        app = w["spec"]["selector"]["matchLabels"]["app"]
        count = w["spec"].get("replicas") or hpa_min[w["metadata"]["name"]]
        pdb = next(b for b in budgets if b["spec"]["selector"]["matchLabels"] == {"app": app})
        allowed = pdb["spec"].get("maxUnavailable") or count - pdb["spec"]["minAvailable"]
        assert allowed >= 1, f"{app}: the budget blocks every drain"
        assert any(p["spec"]["podSelector"]["matchLabels"] == {"app": app} for p in policies), app


def test_every_container_is_pinned_sized_and_probed() -> None:
    for w in workloads():
        for c in pod_spec(w)["containers"]:
            image = c["image"]
            assert ":" in image and not image.endswith(":latest"), image
            assert c["resources"]["requests"] and c["resources"]["limits"]["memory"], c["name"]
            assert "readinessProbe" in c, c["name"]


def test_redis_and_sentinel_announce_stable_host_names() -> None:
    config = next(d for _, _, d in DOCS if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"] == "redis-config")  # type: ignore[index]
    data = config["data"]  # type: ignore[index]
    assert 'replica-announce-ip $(hostname).redis' in data["init.sh"]
    assert "sentinel announce-hostnames yes" in data["sentinel.sh"]
    assert "sentinel announce-ip $(hostname).redis-sentinel" in data["sentinel.sh"]

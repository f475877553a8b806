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

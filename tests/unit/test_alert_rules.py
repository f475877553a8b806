"""The alert rules in ha/monitoring/ are checked and unit-tested with promtool (Debian's
prometheus package, installed by setup.sh)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

MONITORING = Path(__file__).resolve().parents[2] / "ha" / "monitoring"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: ./setup.sh installs it (Debian package prometheus)"
    return subprocess.run([binary, *args], cwd=MONITORING, capture_output=True, text=True,
                          timeout=60, check=False)


def test_alert_rules_are_valid() -> None:
    r = promtool("check", "rules", "alerts.yml")
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_alert_fires_when_it_should_and_not_before() -> None:
    # alerts_test.yml: the error-budget burn (fast and slow), nodes and front door down,
    # no primary, replica lag, providers' errors, PIN lockouts, the card CRL, logout
    # delivery, certificates and signing keys, Redis memory.
    r = promtool("test", "rules", "alerts_test.yml", "certificates_test.yml")
    assert r.returncode == 0, r.stdout + r.stderr


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = heading.strip().lstrip("#").strip().lower()
    return "".join(c for c in text if c.isalnum() or c in " -_").replace(" ", "-")


def _alerts() -> list[dict[str, object]]:
    import yaml

    groups = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"]
    return [rule for g in groups for rule in g["rules"] if "alert" in rule]


def test_every_alert_names_a_runbook_section_that_exists() -> None:
    repo = MONITORING.parents[1]
    for rule in _alerts():
        target = str(rule["annotations"]["runbook"])  # type: ignore[index]
        path, _, anchor = target.partition("#")
        lines = (repo / path).read_text().splitlines()
        anchors = {_slug(line) for line in lines if line.startswith("#")}
        assert anchor in anchors, f"{rule['alert']}: no section #{anchor} in {path}"


def test_every_alert_is_tested() -> None:
    tested = "".join((MONITORING / f).read_text()
                     for f in ("alerts_test.yml", "certificates_test.yml"))
    untested = [r["alert"] for r in _alerts() if f"alertname: {r['alert']}\n" not in tested]
    assert not untested, untested

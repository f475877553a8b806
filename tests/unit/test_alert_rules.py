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


def test_alerts_fire_before_redis_fills_and_when_a_logout_is_given_up() -> None:
    r = promtool("test", "rules", "alerts_test.yml")
    assert r.returncode == 0, r.stdout + r.stderr

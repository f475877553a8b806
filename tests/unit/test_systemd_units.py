"""The systemd units for plain machines (ha/systemd/) are valid (``systemd-analyze
verify``: no unknown key, every command there), restart what dies, and run hardened
(``systemd-analyze security --offline``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "ha" / "systemd"
IDPORTAL = str(Path(sys.executable).parent / "idportal")

pytestmark = pytest.mark.skipif(not shutil.which("systemd-analyze"),
                                reason="systemd-analyze is not installed")


def instances(tmp_path: Path) -> list[Path]:
    """Each unit as installed here: templates given an instance, the venv's idportal."""
    out = []
    for unit in sorted(UNITS.glob("*.service")):
        text = unit.read_text().replace("/opt/idportal/.venv/bin/idportal", IDPORTAL)
        path = tmp_path / unit.name.replace("@.", "@9001.")
        path.write_text(text)
        out.append(path)
    return out


def test_every_unit_verifies_without_a_warning(tmp_path: Path) -> None:
    units = instances(tmp_path)
    assert len(units) == 5
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, units)],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_every_unit_restarts_what_dies_and_gives_up_visibly() -> None:
    for unit in UNITS.glob("*.service"):
        text = unit.read_text()
        assert "Restart=always" in text and "StartLimitBurst=5" in text, unit.name
        assert "NoNewPrivileges=yes" in text and "ProtectSystem=strict" in text, unit.name


def test_the_node_runs_as_its_own_user_with_little_exposure(tmp_path: Path) -> None:
    # Exposure on systemd's scale 0-10 (the threshold counts tenths): at most 3.0.
    node = next(p for p in instances(tmp_path) if p.name.startswith("idportal-node@"))
    assert "User=idportal\n" in node.read_text()
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=30",
                        str(node)], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr

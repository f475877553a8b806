"""Runbooks that cannot rot: every page has the same shape (Symptoms, Look, Do, Verify,
Roll back), and every block marked ``sh runnable`` runs, in order, against the real
cluster through the CLI, from a folder laid out like the repository (``run/cluster`` is
the test cluster; its ports stand where the page has the defaults)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ha import cluster as clustermod

pytestmark = pytest.mark.ha
RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
SHAPE = ("## Symptoms", "## Look", "## Do", "## Verify", "## Roll back")
OTHER_SHAPE = {"README.md"}  # the index
RUNNABLE = re.compile(r"^ *```sh runnable\n(.*?)^ *```", re.S | re.M)
PAGES = sorted(p.name for p in RUNBOOKS.glob("*.md"))


def test_every_page_has_the_same_shape_and_is_in_the_index() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    for name in PAGES:
        text = (RUNBOOKS / name).read_text()
        if name != "README.md":
            assert f"]({name})" in index, f"{name} is not in runbooks/README.md"
        if name in OTHER_SHAPE:
            continue
        positions = [text.find(f"\n{h}\n") for h in SHAPE]
        assert all(p > 0 for p in positions), f"{name}: sections {SHAPE}"
        assert positions == sorted(positions), f"{name}: sections out of order"


def ports(layout: clustermod.Layout) -> dict[str, str]:
    """The defaults a page shows → the test cluster's ports."""
    default = clustermod.Layout()
    pairs = [(default.https, layout.https), (default.stats, layout.stats),
             (default.card, layout.card), (default.freja_phone, layout.freja_phone),
             (default.phone, layout.phone), (default.prometheus, layout.prometheus),
             *zip(default.nodes, layout.nodes, strict=False),
             *zip(default.metrics, layout.metrics, strict=False),
             *zip(default.sentinels, layout.sentinels, strict=False),
             *zip(default.redis, layout.redis, strict=False)]
    return {str(a): str(b) for a, b in pairs}


@pytest.fixture(scope="module")
def sandbox(cluster: clustermod.Cluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    (root / "run").mkdir()
    (root / "run" / "cluster").symlink_to(cluster.run_dir)
    (root / "config").symlink_to(RUNBOOKS.parent / "config")
    return root


@pytest.mark.parametrize("name", [p for p in PAGES
                                  if RUNNABLE.search((RUNBOOKS / p).read_text())])
def test_the_runnable_commands_of_the_page_work(cluster: clustermod.Cluster, sandbox: Path,
                                                name: str) -> None:
    mapping = ports(cluster.layout)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin"}
    for block in RUNNABLE.findall((RUNBOOKS / name).read_text()):
        script = re.sub(r"\b(\d{4,5})\b", lambda m: mapping.get(m.group(1), m.group(1)),
                        "\n".join(line.strip() for line in block.splitlines()))
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=sandbox, env=env,
                           capture_output=True, text=True, timeout=240, check=False)
        assert r.returncode == 0, f"{name}:\n{script}\n--- stdout\n{r.stdout[-1500:]}\n" \
                                  f"--- stderr\n{r.stderr[-1500:]}"
    after = clustermod.Cluster.load(cluster.run_dir)
    assert after is not None
    cluster.members = after.members  # a page may have restarted processes

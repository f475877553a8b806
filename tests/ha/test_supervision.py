"""What dies comes back: with the supervisor running (``cluster up`` starts it; the
shared test cluster starts it here only), a node killed with SIGKILL is started again
with backoff and serves again, and ``cluster status`` says it was restarted."""

from __future__ import annotations

import signal
import time

import pytest

from ha import cluster as clustermod
from ha import procs, stack

pytestmark = pytest.mark.ha


def test_a_killed_node_is_started_again_and_serves(cluster: clustermod.Cluster) -> None:
    watcher = clustermod.start_supervisor(cluster)
    try:
        victim = cluster.member("node-3")
        procs.signal_pid(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        deadline = killed_at + 20
        while True:
            now = clustermod.Cluster.load(cluster.run_dir)
            assert now is not None
            if now.member("node-3").pid != victim.pid and now.member("node-3").proc().alive():
                break
            assert time.monotonic() < deadline, "the supervisor did not start node-3 again"
            time.sleep(0.2)
        back = now.member("node-3")
        stack.wait_http(f"http://127.0.0.1:{back.port}/readyz", None, proc=back.proc(),
                        timeout=30)
        took = time.monotonic() - killed_at
        assert took < 15, took
        row = next(p for p in clustermod.health(now) if p["name"] == "node-3")
        assert row["healthy"] and "restarted 1x" in row["detail"], row
        cluster.members = now.members
    finally:
        procs.stop(watcher.proc())
        latest = clustermod.Cluster.load(cluster.run_dir)
        assert latest is not None
        latest.members = [m for m in latest.members if m.role != "supervisor"]
        latest.save()
        cluster.members = latest.members

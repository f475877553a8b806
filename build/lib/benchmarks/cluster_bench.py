"""Cluster benchmarks for BENCHMARKS.md, each on a fresh cluster on free ports:

- scaling: BankID journeys/s with 1, 2 and 3 nodes behind HAProxy (Locust, no think time);
- waiting: what a citizen waiting in the BankID app costs (requests/s per waiting citizen,
  QR and same device), with a 10 s approval delay.

    python -m benchmarks.cluster_bench [--users 16] [--duration 20] [--out benchmarks/results/cluster.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

from ha import cluster as clustermod
from loadtests.capacity import measure_step
from loadtests.run import read_stats, run


def scaling(users: int, duration: float, out: Path) -> list[dict[str, object]]:
    rows = []
    for n in (1, 2, 3):
        run_dir = Path(tempfile.mkdtemp(prefix=f"scale{n}-"))
        try:
            c = clustermod.up(run_dir, clustermod.Layout.free(n))
            step = measure_step(c, clustermod.describe(c), "bankid", users, duration,
                                out / f"nodes-{n}")
            rows.append({"nodes": n, **asdict(step)})
            print(f"{n} node(s): {step.journeys_per_s} BankID journeys/s, p95 {step.journey_p95_ms} ms,"
                  f" node cores {sum(step.node_cores.values()):.2f}, redis {step.redis_cores}", flush=True)
        finally:
            clustermod.down(run_dir)
    return rows


def waiting(duration: float, out: Path) -> dict[str, object]:
    run_dir = Path(tempfile.mkdtemp(prefix="waiting-"))
    try:
        c = clustermod.up(run_dir, clustermod.Layout.free(3))
        info = clustermod.describe(c)
        result = run(info, "bankid", out=out / "waiting", users=10, duration=duration,
                     approval_delay="10", think_time="0")
        entries = read_stats(result.stats_csv)
    finally:
        clustermod.down(run_dir)
    by = {f"{e.kind} {e.name}": e for e in entries}
    journeys = {e.name: e.requests for e in entries if e.kind == "JOURNEY"}
    qr = by.get("GET GET /login/[tx]/bankid/qr.svg") or by.get("GET /login/[tx]/bankid/qr.svg")
    polls = sum(e.requests for e in entries if "collect" in e.name)
    qr_n = qr.requests if qr else 0
    n_qr, n_same = journeys.get("bankid_login_other", 0), journeys.get("bankid_login_same", 0)
    wait_s = 10.0
    res: dict[str, object] = {
        "approval_delay_s": wait_s, "journeys_qr": n_qr, "journeys_same_device": n_same,
        "collect_requests": polls, "qr_requests": qr_n,
        "requests_per_s_per_waiting_citizen_qr": round(
            (qr_n / max(1, n_qr) + polls / max(1, n_qr + n_same)) / wait_s, 2),
        "requests_per_s_per_waiting_citizen_same_device": round(
            polls / max(1, n_qr + n_same) / wait_s, 2),
    }
    print(json.dumps(res), flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=16)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--out", default="benchmarks/results/cluster.json")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    data = {"scaling": scaling(a.users, a.duration, work), "waiting": waiting(40, work)}
    Path(a.out).write_text(json.dumps(data, indent=1) + "\n")
    print(f"saved {a.out}")


if __name__ == "__main__":
    main()

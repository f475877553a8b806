"""``idportal load SCENARIO``: a headless Locust run against the running cluster.

Writes Locust's CSV files and HTML report to ``--out`` and exits non-zero when an SLO
(loadtests/slo.toml) is broken. The load is bounded: the shape ends after --duration.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ha import cluster as clustermod
from ha.stack import REPO
from loadtests.scenarios import SCENARIOS
from loadtests.slo import JOURNEY, Entry

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    stats_csv: Path
    html: Path
    output: str


def run(info: dict[str, Any], scenario: str, *, out: Path, users: int, duration: float,
        shape: str = "constant", approval_delay: str = "0", processes: int = 1,
        slo_file: str = "", think_time: str = "", extra_env: dict[str, str] | None = None,
        reset_stats: bool = False, live: bool = False) -> RunResult:
    """One headless Locust run; ``reset_stats``: the statistics start once every user
    has been spawned (a warm-up left out); ``live``: Locust's own statistics table on
    the terminal every few seconds while it runs (``idportal load``)."""
    out.mkdir(parents=True, exist_ok=True)
    status = out / "cluster.json"
    status.write_text(json.dumps(info))
    env = {**os.environ, "IDPORTAL_CLUSTER_JSON": str(status), "IDPORTAL_SHAPE": shape,
           "IDPORTAL_USERS": str(users), "IDPORTAL_DURATION": str(duration),
           "IDPORTAL_APPROVAL_DELAY": approval_delay, **(extra_env or {})}
    if think_time:
        env["IDPORTAL_THINK_TIME"] = think_time
    if slo_file:
        env["IDPORTAL_SLO_FILE"] = str(Path(slo_file).resolve())
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--host", info["issuer"], "--csv", str(out / "locust"), "--html",
            str(out / "report.html"), "--loglevel", "WARNING", "--stop-timeout", "30"]
    if not live:
        argv += ["--only-summary"]
    if processes > 1:
        argv += ["--processes", str(processes)]
    if reset_stats:
        argv += ["--reset-stats"]
    argv += SCENARIOS[scenario]
    if live:
        return _run_live(argv, env, out, duration)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False,
                          cwd=REPO, timeout=duration + 180)
    output = done.stdout + done.stderr
    (out / "locust.log").write_text(output)
    return RunResult(done.returncode, out / "locust_stats.csv", out / "report.html", output)


def _run_live(argv: list[str], env: dict[str, str], out: Path, duration: float) -> RunResult:
    """Locust with its output on the terminal as it comes, and kept for the summary."""
    lines: list[str] = []
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, cwd=REPO) as proc:
        assert proc.stdout is not None
        deadline = time.monotonic() + duration + 180
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
            if time.monotonic() > deadline:
                proc.kill()
                break
        code = proc.wait()
    output = "".join(lines)
    (out / "locust.log").write_text(output)
    return RunResult(code, out / "locust_stats.csv", out / "report.html", output)


def read_stats(path: Path) -> list[Entry]:
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["Name"] == "Aggregated":
                continue
            rows.append(Entry(kind=r["Type"], name=r["Name"], requests=int(r["Request Count"]),
                              failures=int(r["Failure Count"]),
                              p95_ms=float(r["95%"] or 0), p99_ms=float(r["99%"] or 0)))
    return rows


def journeys_table(entries: list[Entry], duration: float) -> str:
    lines = [f"{'journey':28} {'done':>6} {'failed':>6} {'per s':>7} {'p95 ms':>8} {'p99 ms':>8}"]
    for e in entries:
        if e.kind == JOURNEY:
            lines.append(f"{e.name:28} {e.requests:6} {e.failures:6} "
                         f"{(e.requests - e.failures) / duration:7.2f} {e.p95_ms:8.0f} {e.p99_ms:8.0f}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    c = clustermod.require_running(args.run_dir)
    if c is None:
        return 2
    info = clustermod.describe(c)
    processes = args.processes or max(1, len(os.sched_getaffinity(0)) // 2)
    result = run(info, args.scenario, out=Path(args.out), users=args.users,
                 duration=args.duration, shape=args.shape, approval_delay=args.approval_delay,
                 processes=processes, slo_file=args.slo, think_time=args.think_time,
                 live=True)
    for line in result.output.splitlines():
        if line.startswith(("SLO", "SLOs")):
            print(line)
    if result.stats_csv.exists():
        print(journeys_table(read_stats(result.stats_csv), args.duration))
    print(f"CSV: {result.stats_csv}   HTML: {result.html}")
    return result.exit_code

"""``idportal capacity``: step the offered load up until an SLO breaks, find the knee
(the highest sustained journeys/s within SLO), and plan nodes and Redis for a peak.

Each step is its own bounded headless Locust run at a constant number of users. The
planner's model, with its assumptions printed beside the result:

    peak journeys/s = population × peak-hour share ÷ 3600 × peak factor × growth
    nodes           = ceil(peak ÷ (knee per node × 0.6 target utilisation)) + 1 spare,
                      at least 3 (one may fail, one may be restarting)
    Redis           = peak × Redis commands per journey, against the primary's measured
                      CPU per journey; memory = sessions alive at the peak × bytes/session
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ha import cluster as clustermod
from ha import procs
from ha.drills.report import environment
from loadtests import slo
from loadtests.run import read_stats, run
from loadtests.slo import JOURNEY

TARGET_UTILISATION = 0.6
WARMUP_S = 5.0  # users spawn during it; no figure counts it


@dataclass
class Step:
    users: int
    journeys_per_s: float
    requests_per_s: float
    journey_p95_ms: float
    journey_p99_ms: float
    error_rate: float
    node_cores: dict[str, float]
    redis_cores: float
    redis_commands_per_journey: float
    breaches: list[str] = field(default_factory=list)
    window_s: float = 0.0  # the measured window (the warm-up left out)

    @property
    def cores(self) -> float:
        return sum(self.node_cores.values())

    @property
    def within_slo(self) -> bool:
        return not self.breaches


def _commands(cluster: clustermod.Cluster, port: int) -> int:
    c = cluster.redis_client(port, timeout=2)
    try:
        stats = c.info("commandstats")
    finally:
        c.close()
    return sum(int(v["calls"]) for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_ping"))


def _wait_for(path: Path, worker: threading.Thread, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if not worker.is_alive() or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def measure_step(c: clustermod.Cluster, info: dict[str, Any], scenario: str, users: int,
                 duration: float, out: Path, *, think_time: str = "0",
                 warmup: float = WARMUP_S) -> Step:
    """One step: ``users`` spawn during ``warmup`` (left out of every figure), then
    ``duration`` is measured: Locust's statistics restart when the last user has spawned,
    and the CPU of the nodes and of the Redis primary is read at the start and the end
    of that window and divided by it."""
    folder = out / f"users-{users}"
    folder.mkdir(parents=True, exist_ok=True)
    start_mark, end_mark = folder / "measure.start", folder / "measure.end"
    for mark in (start_mark, end_mark):
        mark.unlink(missing_ok=True)
    nodes = {m.name: m.pid for m in c.by_role("node")}
    primary = c.primary_port() or c.layout.redis[0]
    rpid = c.redis_member(primary).pid
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(run(
        info, scenario, out=folder, users=users, duration=duration, think_time=think_time,
        reset_stats=True, extra_env={"IDPORTAL_WARMUP": str(warmup),
                                     "IDPORTAL_MARK_START": str(start_mark),
                                     "IDPORTAL_MARK_END": str(end_mark)})))
    worker.start()
    _wait_for(start_mark, worker, warmup + 60)
    t0 = time.monotonic()
    before = {n: procs.cpu_seconds(p) for n, p in nodes.items()}
    rbefore, cbefore = procs.cpu_seconds(rpid), _commands(c, primary)
    _wait_for(end_mark, worker, duration + 60)
    window = max(1.0, time.monotonic() - t0)
    cores = {n: round((procs.cpu_seconds(p) - before[n]) / window, 2) for n, p in nodes.items()}
    rcores = round((procs.cpu_seconds(rpid) - rbefore) / window, 3)
    commands = _commands(c, primary) - cbefore
    worker.join()
    result = results[0]
    entries = read_stats(result.stats_csv) if result.stats_csv.exists() else []
    journeys = [e for e in entries if e.kind == JOURNEY]
    reqs = [e for e in entries if e.kind != JOURNEY]
    done = sum(e.requests - e.failures for e in journeys)
    total_req = sum(e.requests for e in reqs)
    return Step(
        users=users, journeys_per_s=round(done / window, 2),
        requests_per_s=round(total_req / window, 1),
        journey_p95_ms=round(max((e.p95_ms for e in journeys), default=0.0)),
        journey_p99_ms=round(max((e.p99_ms for e in journeys), default=0.0)),
        error_rate=round(sum(e.failures for e in reqs) / max(1, total_req), 4),
        node_cores=cores, redis_cores=rcores,
        redis_commands_per_journey=round(commands / max(1, done), 1),
        breaches=slo.breaches(slo.load(), entries, duration_s=window),
        window_s=round(window, 1),
    )


def saturated(steps: list[Step]) -> bool:
    """Two steps in a row that add users but < 10 % throughput while p95 grows by half:
    the system is past its knee even if no SLO has broken yet."""
    if len(steps) < 3:
        return False
    a, b, c = steps[-3:]
    return (c.journeys_per_s < 1.1 * a.journeys_per_s and b.journeys_per_s < 1.1 * a.journeys_per_s
            and c.journey_p95_ms > 1.5 * a.journey_p95_ms)


RISE = 1.05  # a step that adds users but less than 5 % throughput: past the knee


def knee(steps: list[Step]) -> Step:
    """Where throughput stops rising or an SLO breaks: the last step before either."""
    best = steps[0]
    for prev, cur in itertools.pairwise(steps):
        if not cur.within_slo or cur.journeys_per_s < prev.journeys_per_s * RISE:
            break
        best = cur
    return best


@dataclass
class Plan:
    knee_journeys_per_s: float
    knee_users: int
    nodes_measured: int
    knee_node_cores: float  # the nodes' CPU at the knee, all together
    per_core_journeys_per_s: float
    cores_per_node: int
    peak_journeys_per_s: float
    nodes_needed: int
    redis_cores_at_peak: float
    redis_commands_per_s_at_peak: float
    assumptions: dict[str, Any]


def plan(steps: list[Step], *, nodes: int, population: int, share: float, factor: float,
         growth: float, cores_per_node: int = 2) -> Plan:
    """Per core: the knee's journeys/s divided by the CPU the nodes used at the knee (on
    one machine the nodes share it with Redis and Locust, so per node would mislead)."""
    k = knee(steps)
    per_core = k.journeys_per_s / max(k.cores, 1e-9)
    peak = population * share / 3600 * factor * growth
    needed = max(3, math.ceil(peak / max(per_core * cores_per_node * TARGET_UTILISATION,
                                         1e-9)) + 1)
    redis_per_journey = k.redis_cores / max(k.journeys_per_s, 1e-9)
    return Plan(
        knee_journeys_per_s=k.journeys_per_s, knee_users=k.users, nodes_measured=nodes,
        knee_node_cores=round(k.cores, 2), per_core_journeys_per_s=round(per_core, 2),
        cores_per_node=cores_per_node, peak_journeys_per_s=round(peak, 2),
        nodes_needed=needed, redis_cores_at_peak=round(redis_per_journey * peak, 3),
        redis_commands_per_s_at_peak=round(k.redis_commands_per_journey * peak),
        assumptions={"population": population, "peak_hour_share": share,
                     "peak_factor": factor, "growth": growth,
                     "target_utilisation": TARGET_UTILISATION, "spare_nodes": 1,
                     "journey_mix": "the scenario's Locust weights (loadtests/locustfile.py)",
                     "per_core": "the knee's journeys/s over the nodes' CPU at the knee, "
                                 "each step's CPU divided by its own measured window, its "
                                 "warm-up left out"},
    )


def markdown(steps: list[Step], p: Plan, env: dict[str, Any] | None = None) -> str:
    rows = "\n".join(
        f"| {s.users} | {s.journeys_per_s} | {s.requests_per_s} | {s.journey_p95_ms:.0f} | "
        f"{s.journey_p99_ms:.0f} | {s.error_rate:.2%} | {sum(s.node_cores.values()):.2f} | "
        f"{s.redis_cores} | {'yes' if s.within_slo else 'NO: ' + '; '.join(s.breaches)[:80]} |"
        for s in steps)
    a = p.assumptions
    head = ("| users | journeys/s | requests/s | journey p95 ms | journey p99 ms | errors "
            "| node cores | Redis cores | within SLO |\n|---|---|---|---|---|---|---|---|---|")
    return f"""# Capacity

{head}
{rows}

{_ran(env)}
**Knee** (where throughput stops rising by {RISE - 1:.0%} a step, or an SLO breaks):
{p.knee_journeys_per_s} journeys/s at {p.knee_users} users, the {p.nodes_measured} nodes using
{p.knee_node_cores} cores: **{p.per_core_journeys_per_s} journeys/s per node core**.

**Peak to plan for**: {a['population']:,} people × {a['peak_hour_share']:.1%} in the peak hour ÷ 3600
× {a['peak_factor']} (busiest minute) × {a['growth']} (growth) = **{p.peak_journeys_per_s} journeys/s**.

**Nodes** of {p.cores_per_node} cores: ceil({p.peak_journeys_per_s} ÷
({p.per_core_journeys_per_s} × {p.cores_per_node} × {a['target_utilisation']})) + 1 spare, at least 3
= **{p.nodes_needed} nodes**.

**Redis**: {p.redis_commands_per_s_at_peak:,} commands/s, {p.redis_cores_at_peak} cores of the
primary at the peak (one Redis core is the limit of one primary).

Assumptions: {a['per_core']}; journey mix: {a['journey_mix']}.
"""


def _ran(env: dict[str, Any] | None) -> str:
    if not env:
        return ""
    return (f"Run {env['date']} at commit `{env['commit']}`: {env['nodes']} nodes under "
            f"{env['server']}; host {env['host']['cores']} cores ({env['host']['cpu']}), "
            f"shared by the nodes, Redis and Locust.\n")


def plot(steps: list[Step], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    x = [s.journeys_per_s for s in steps]
    axes[0].plot(x, [s.journey_p95_ms for s in steps], "o-", label="journey p95")
    axes[0].plot(x, [s.journey_p99_ms for s in steps], "o-", label="journey p99")
    axes[0].set_xlabel("journeys/s")
    axes[0].set_ylabel("ms")
    axes[0].legend()
    axes[1].plot([s.users for s in steps], x, "o-", label="journeys/s")
    axes[1].plot([s.users for s in steps], [s.error_rate * 100 for s in steps], "x--",
                 label="errors %")
    axes[1].set_xlabel("users")
    axes[1].legend()
    for name in steps[0].node_cores:
        axes[2].plot(x, [s.node_cores.get(name, 0) for s in steps], "o-", label=name)
    axes[2].plot(x, [s.redis_cores for s in steps], "s--", label="redis primary")
    axes[2].set_xlabel("journeys/s")
    axes[2].set_ylabel("cores")
    axes[2].legend(fontsize=8)
    k = knee(steps)
    for ax in (axes[0], axes[2]):
        ax.axvline(k.journeys_per_s, color="green", linestyle="--")
        ax.annotate(f"knee {k.journeys_per_s}/s", (k.journeys_per_s, ax.get_ylim()[1] * 0.9),
                    color="green", fontsize=8)
    axes[1].axvline(k.users, color="green", linestyle="--")
    for s in steps:
        if not s.within_slo:
            axes[0].axvline(s.journeys_per_s, color="red", linestyle=":")
            axes[0].annotate("SLO broken", (s.journeys_per_s, axes[0].get_ylim()[1] * 0.8),
                             color="red", fontsize=8)
            break
    fig.suptitle("capacity: throughput against latency, errors and CPU")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(args: argparse.Namespace) -> int:
    c = clustermod.require_running(args.run_dir)
    if c is None:
        return 2
    info = clustermod.describe(c)
    out = Path(args.out)
    steps: list[Step] = []
    for users in (int(u) for u in args.steps.split(",")):
        s = measure_step(c, info, args.scenario, users, args.step_duration, out,
                         think_time=args.think_time)
        steps.append(s)
        print(f"{users:4} users: {s.journeys_per_s:7.2f} journeys/s, p95 {s.journey_p95_ms:6.0f} ms,"
              f" errors {s.error_rate:.2%}, nodes {sum(s.node_cores.values()):.2f} cores"
              f" {'' if s.within_slo else ' SLO broken: ' + '; '.join(s.breaches)[:100]}", flush=True)
        if not s.within_slo:
            break
        if saturated(steps):
            print("throughput stopped rising while latency climbs: past the knee")
            break
    p = plan(steps, nodes=len(c.by_role("node")), population=args.population,
             share=args.peak_hour_share, factor=args.peak_factor, growth=args.growth,
             cores_per_node=args.cores_per_node)
    env = environment(c, load=steps[-1].users, duration=args.step_duration, approval_s=0.0,
                      provider="the scenario's")
    out.mkdir(parents=True, exist_ok=True)
    (out / "capacity.json").write_text(json.dumps(
        {"environment": env, "steps": [asdict(s) for s in steps], "plan": asdict(p)},
        indent=1) + "\n")
    (out / "capacity.md").write_text(markdown(steps, p, env))
    plot(steps, out / "capacity.png")
    print(markdown(steps, p, env))
    print(f"written: {out / 'capacity.json'}, {out / 'capacity.md'}, {out / 'capacity.png'}")
    return 0

"""A drill's report: figures from the history, written as JSON, Markdown and a PNG
timeline (requests/s, errors and latency over time; fault, detection, heal marked)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ha.drills.checks import Checks
from ha.drills.history import History, Op

WRITES = {"bankid_start", "collect", "token", "token_jwt", "refresh", "logout", "authorize"}
SLOW_S = 1.0


@dataclass
class Report:
    kind: str
    load: int
    duration_s: float
    fault_at_s: float
    healed_at_s: float
    detected_at_s: float | None
    targets: list[str]
    ops: int
    ops_failed: dict[str, int]
    ops_unknown: dict[str, int]
    journeys: int
    journeys_failed: int
    journeys_failed_by_step: dict[str, int]
    detection_s: float | None
    recovery_s: float
    write_pause_s: float
    p99_fault_ms: float
    p99_normal_ms: float
    checks: dict[str, Any]
    goals: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: str = ""
    failovers: int = 0  # primary switches the Sentinels made during the drill
    # When, on what, with what: date, commit, server, host, the settings that matter.
    environment: dict[str, Any] = field(default_factory=dict)
    # From the fault until every process of the cluster was healthy again.
    redundancy_s: float | None = None
    max_fault_ms: float = 0.0  # the longest request from the fault to recovery

    @property
    def passed(self) -> bool:
        return not self.skipped and bool(self.checks.get("passed"))


def environment(c: Any, *, load: int, duration: float, approval_s: float,
                provider: str) -> dict[str, Any]:
    """What a reader needs to compare one report with another (``c``: the cluster)."""
    import datetime as dt
    import os
    import platform
    import subprocess

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text(
        errors="replace").splitlines() if line.startswith("model name")), platform.machine())
    commit = os.environ.get("IDPORTAL_COMMIT") or subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False,
        cwd=Path(__file__).resolve().parent).stdout.strip() or "unknown"
    servers = sorted({m.argv[m.argv.index("--server") + 1] for m in c.by_role("node")
                      if "--server" in m.argv})
    return {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "commit": commit[:12], "host": {"cores": os.cpu_count(), "cpu": cpu,
                                            "python": platform.python_version()},
            "server": ",".join(servers) or "unknown", "nodes": len(c.by_role("node")),
            "front_door": c.layout.front_door,
            "load": {"citizens": load, "duration_s": duration, "approval_s": approval_s,
                     "provider": provider},
            "settings": {"redis.wait_replicas": 1, "sentinel down-after-milliseconds": 1000,
                         "haproxy check": "inter 400ms fall 2 rise 2, timeout check 250ms",
                         "keepalived": "VRRP v3, advert 0.1 s, check 1 s, fall 2"
                         if c.layout.front_door == "ha" else "none"}}


def _p99(ops: list[Op]) -> float:
    lat = sorted(o.latency for o in ops if o.end)
    return round(lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000, 1) if lat else 0.0


def build(kind: str, load: int, h: History, *, fault_at: float, healed_at: float,
          detected_at: float | None, targets: list[str], checks: Checks) -> Report:
    def rel(t: float) -> float:
        return round(t - h.t0, 3)

    done = [o for o in h.ops if o.end]
    failed = Counter(o.step for o in done if o.outcome == "fail")
    unknown = Counter(o.step for o in done if o.outcome == "unknown")
    window = [o for o in done if o.end >= fault_at and o.start <= healed_at]
    normal = [o for o in done if o.end < fault_at]
    bad = [o for o in window if o.outcome != "ok" or o.latency > SLOW_S]
    recovery = max((o.end for o in bad), default=fault_at) - fault_at
    writes = [o.latency for o in window if o.step in WRITES]
    # The event: from the fault until it was detected and recovered from (+0.5 s).
    event_end = fault_at + max(recovery, (detected_at - fault_at) if detected_at else 0) + 0.5
    event = [o for o in done if o.end >= fault_at and o.start <= event_end]
    jdone = [j for j in h.journeys if j.end]
    jfailed = [j for j in jdone if j.outcome != "ok"]
    return Report(
        kind=kind, load=load, duration_s=rel(max((o.end for o in done), default=h.t0)),
        fault_at_s=rel(fault_at), healed_at_s=rel(healed_at),
        detected_at_s=rel(detected_at) if detected_at else None, targets=targets,
        ops=len(done), ops_failed=dict(failed), ops_unknown=dict(unknown),
        journeys=len(jdone), journeys_failed=len(jfailed),
        journeys_failed_by_step=dict(Counter(j.detail for j in jfailed)),
        detection_s=round(detected_at - fault_at, 3) if detected_at else None,
        recovery_s=round(recovery, 3), write_pause_s=round(max(writes, default=0.0), 3),
        p99_fault_ms=_p99(event), p99_normal_ms=_p99(normal),
        max_fault_ms=round(max((o.latency for o in event), default=0.0) * 1000, 1),
        checks={**asdict(checks), "passed": checks.passed},
    )


def evaluate_goals(r: Report) -> None:
    """The goals of the HA issue, as figures (not timed tests)."""
    g: dict[str, dict[str, Any]] = {}
    c = r.checks
    g["no lost sessions"] = {"want": 0, "got": c["lost_sessions"]}
    g["no resurrected logouts"] = {"want": 0, "got": c["resurrected_logouts"]}
    g["no lost audit event"] = {"want": 0, "got": c.get("audit_missing", 0)}
    g["no double redemption"] = {"want": 0,
                                 "got": c["double_redemptions"] + c["refresh_reuse_accepted"]}
    if r.kind.startswith("redis-primary") or r.kind == "primary-partition":
        g["no failed journeys"] = {"want": 0, "got": r.journeys_failed}
    if r.kind == "redis-primary-kill":
        g["write pause <= 3 s"] = {"want": 3.0, "got": r.write_pause_s}
    if r.kind in ("node-kill", "two-nodes-kill"):
        g["detection <= 1 s"] = {"want": 1.0, "got": r.detection_s}
    if r.kind == "node-freeze":
        # HAProxy's timeout server (8 s) bounds how long a frozen node holds a citizen.
        g["no request held > 9 s"] = {"want": 9000.0, "got": r.max_fault_ms}
    if r.kind in ("haproxy-kill", "front-door-freeze"):
        # keepalived: a health check a second, two misses: the address moves in ~2 s.
        g["takeover <= 3 s"] = {"want": 3.0, "got": r.detection_s}
        # New connections wait for the other front door (resets are kept in): at most the
        # requests in flight on the failed one fail, one per citizen.
        g["failed requests <= those in flight"] = {
            "want": r.load, "got": sum(r.ops_failed.values()) + sum(r.ops_unknown.values())}
    if r.kind in ("rolling-restart", "haproxy-reload"):
        g["no failed requests"] = {"want": 0, "got": sum(r.ops_failed.values())
                                   + sum(r.ops_unknown.values())}
    for goal in g.values():
        got, want = goal["got"], goal["want"]
        goal["met"] = got is not None and got <= want
    r.goals = g


def timeline(h: History, step: float = 0.5) -> list[dict[str, float]]:
    done = [o for o in h.ops if o.end]
    if not done:
        return []
    end = max(o.end for o in done)
    rows = []
    t = h.t0
    while t < end:
        # By when a request started: a request that hung through an outage shows as slow
        # in the moment it was sent, not as a gap.
        bucket = [o for o in done if t <= o.start < t + step]
        lat = sorted(o.latency for o in bucket)
        rows.append({"t": round(t - h.t0, 2),
                     "ok_per_s": sum(o.outcome == "ok" for o in bucket) / step,
                     "errors_per_s": sum(o.outcome != "ok" for o in bucket) / step,
                     "p99_ms": round(lat[int(0.99 * (len(lat) - 1))] * 1000, 1) if lat else 0.0})
        t += step
    return rows


def write(r: Report, h: History, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"drill-{r.kind}"
    rows = timeline(h)
    data = {**asdict(r), "passed": r.passed, "timeline": rows}
    (json_path := stem.with_suffix(".json")).write_text(json.dumps(data, indent=1) + "\n")
    (md_path := stem.with_suffix(".md")).write_text(markdown(r))
    png = stem.with_suffix(".png")
    plot(r, rows, png)
    return {"json": json_path, "markdown": md_path, "png": png}


def _of(checks: dict[str, Any], what: str) -> str:
    """"400 of 1,316": how many were read back of how many there were."""
    return f"{checks[what + '_checked']:,} of {checks.get(what + '_total', 0):,}"


def markdown(r: Report) -> str:
    verdict = "PASSED" if r.passed else ("SKIPPED" if r.skipped else "FAILED")
    lines = [f"# Drill `{r.kind}`: {verdict}", ""]
    e = r.environment
    if e:
        lines += [f"Run {e['date']} at commit `{e['commit']}`: {e['nodes']} nodes under "
                  f"{e['server']}, front door {e['front_door']}; host {e['host']['cores']} "
                  f"cores ({e['host']['cpu']}), Python {e['host']['python']}. Settings: "
                  + "; ".join(f"{k} {v}" for k, v in e["settings"].items()) + ".", ""]
    if r.skipped:
        return "\n".join([*lines, f"Skipped: {r.skipped}", ""])
    c = r.checks
    detected = ("Sentinel names a new primary" if "primary" in r.kind or "partition" in r.kind
                else "the other front door holds the floating address"
                if r.kind in ("haproxy-kill", "front-door-freeze") else "marked down")
    lines += [
        f"Load: {r.load} concurrent citizens doing whole journeys for {r.duration_s:.0f} s. "
        f"Fault on {', '.join(r.targets)} at {r.fault_at_s:.1f} s, healed at {r.healed_at_s:.1f} s.",
        "",
        "| figure | value |", "|---|---|",
        f"| detection (fault → {detected}) | "
        f"{'n/a' if r.detection_s is None else f'{r.detection_s:.2f} s'} |",
        f"| recovery (fault → last failed or slow operation) | {r.recovery_s:.2f} s |",
        f"| full redundancy back (fault → every process healthy) | "
        f"{'n/a' if r.redundancy_s is None else f'{r.redundancy_s:.2f} s'} |",
        f"| longest write during the fault | {r.write_pause_s:.2f} s |",
        f"| p99 latency from fault to recovery / before the fault | {r.p99_fault_ms:.0f} ms / "
        f"{r.p99_normal_ms:.0f} ms |",
        f"| longest request from fault to recovery | {r.max_fault_ms:.0f} ms |",
        f"| operations / failed / unknown | {r.ops} / {sum(r.ops_failed.values())} / "
        f"{sum(r.ops_unknown.values())} |",
        f"| journeys / failed | {r.journeys} / {r.journeys_failed} |",
        f"| sessions read back / lost | {_of(c, 'sessions')} / {c['lost_sessions']} |",
        f"| logouts checked / resurrected | {_of(c, 'logouts')} / {c['resurrected_logouts']} |",
        f"| logouts sent but never answered (checked neither way) | "
        f"{c.get('logouts_unacknowledged', 0)} |",
        f"| acknowledged logins / without their audit event in PostgreSQL | "
        f"{c.get('audit_checked', 0):,} / {c.get('audit_missing', 0)} |",
        f"| codes re-presented / accepted twice | {_of(c, 'codes')} / {c['double_redemptions']} |",
        f"| rotated refresh tokens re-presented / accepted | {_of(c, 'refresh')} / "
        f"{c['refresh_reuse_accepted']} |",
        "",
    ]
    if r.ops_failed or r.ops_unknown:
        lines += ["Failed steps: " + ", ".join(f"{k} {v}" for k, v in r.ops_failed.items()),
                  "Unknown outcome: " + ", ".join(f"{k} {v}" for k, v in r.ops_unknown.items()), ""]
    if r.goals:
        lines += ["| goal | got | met |", "|---|---|---|"]
        lines += [f"| {k} | {v['got']} | {'yes' if v['met'] else 'NO'} |" for k, v in r.goals.items()]
        lines.append("")
    lines += [f"- {n}" for n in r.notes]
    return "\n".join(lines) + "\n"


def plot(r: Report, rows: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True)
    t = [row["t"] for row in rows]
    axes[0].plot(t, [row["ok_per_s"] for row in rows], color="tab:blue")
    axes[0].set_ylabel("ok requests/s")
    axes[1].plot(t, [row["errors_per_s"] for row in rows], color="tab:red")
    axes[1].set_ylabel("errors/s")
    axes[2].plot(t, [row["p99_ms"] for row in rows], color="tab:purple")
    axes[2].set_ylabel("p99 ms")
    axes[2].set_xlabel("seconds")
    for ax in axes:
        ax.axvline(r.fault_at_s, color="black", linestyle="--", label="fault")
        if r.detected_at_s is not None:
            ax.axvline(r.detected_at_s, color="orange", linestyle=":", label="detected")
        ax.axvline(r.fault_at_s + r.recovery_s, color="green", linestyle="-.", label="recovered")
        ax.axvline(r.healed_at_s, color="grey", linestyle="-", label="healed")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[0].set_title(f"drill {r.kind}: {'passed' if r.passed else 'FAILED'}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)

"""``idportal drill KIND [--load N] [--duration S] [--report DIR]``: run a bounded load of
journeys against the running cluster, inject one fault, heal it, check, report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from pathlib import Path

import redis

from ha import cluster as clustermod
from ha import supervision
from ha.drills import checks, faults, journeys
from ha.drills.history import History
from ha.drills.observe import Watch
from ha.drills.report import Report, build, environment, evaluate_goals, write


async def progress(h: History, stop: asyncio.Event, every_s: float = 3.0) -> None:
    """A line every few seconds while a drill runs: what the citizens got."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
        done = [o for o in h.ops if o.end]
        recent = sorted(o.latency for o in done if o.end > time.monotonic() - every_s)
        p99 = recent[int(0.99 * (len(recent) - 1))] * 1000 if recent else 0.0
        print(f"  {time.monotonic() - h.t0:5.1f} s: {len(done):6} requests "
              f"({sum(o.outcome == 'fail' for o in done)} failed, "
              f"{sum(o.outcome == 'unknown' for o in done)} unknown), "
              f"{sum(1 for j in h.journeys if j.end and j.outcome == 'ok')} journeys done, "
              f"p99 of the last {every_s:.0f} s {p99:.0f} ms", flush=True)


async def drill(c: clustermod.Cluster, kind: str, *, load: int = 6, duration: float = 20.0,
                warmup: float = 3.0, approval_s: float = 0.0,
                provider: str = "bankid", show_progress: bool = False
                ) -> tuple[Report, History]:
    if kind not in faults.KINDS:
        raise ValueError(f"unknown drill {kind!r}; one of {', '.join(faults.KINDS)}")
    info = clustermod.describe(c)
    target = journeys.target_from_status(info)
    # The drill stops processes on purpose and heals them itself: the supervisor waits.
    held = [m.name for m in c.members]
    supervision.hold(c.run_dir, held, warmup + duration + 120)
    try:
        return await _drill(c, kind, info, target, load=load, duration=duration,
                            warmup=warmup, approval_s=approval_s, provider=provider,
                            show_progress=show_progress)
    finally:
        supervision.release(c.run_dir, held)


async def _drill(c: clustermod.Cluster, kind: str, info: dict[str, object],
                 target: journeys.Target, *, load: int, duration: float, warmup: float,
                 approval_s: float, provider: str, show_progress: bool
                 ) -> tuple[Report, History]:
    h = History()
    stop = asyncio.Event()
    load_task = asyncio.create_task(journeys.run_load(target, h, citizens=load, stop=stop,
                                                      approval_s=approval_s, provider=provider))
    shown = asyncio.create_task(progress(h, stop)) if show_progress else None
    await asyncio.sleep(warmup)
    fault_at = time.monotonic()
    notes: list[str] = []
    switches_before = _switches(c)
    try:
        fault = await asyncio.to_thread(faults.inject, c, kind)
    except faults.Skipped as exc:
        stop.set()
        await load_task
        if shown is not None:
            await shown
        r = build(kind, load, h, fault_at=fault_at, healed_at=fault_at, detected_at=None,
                  targets=[], checks=checks.Checks())
        r.skipped = str(exc)
        r.environment = environment(c, load=load, duration=duration, approval_s=approval_s,
                                    provider=provider)
        return r, h
    fault_at = fault.at  # after any preparation (e.g. installing iptables)
    watch = (await asyncio.to_thread(Watch, c, fault.watch, fault.targets)).start()
    if kind == "rolling-restart":
        await asyncio.to_thread(clustermod.rolling_restart, c)
    else:
        await asyncio.sleep(fault.hold_s)
        await asyncio.to_thread(fault.heal)
    healed_at = time.monotonic()
    await asyncio.sleep(max(2.0, duration - (healed_at - h.t0)))
    stop.set()
    await load_task
    if shown is not None:
        await shown
    watch.stop()
    whole_at = await asyncio.to_thread(settle, c, fault.targets, notes)
    result = await checks.run(target, h.artifacts)
    r = build(kind, load, h, fault_at=fault_at, healed_at=healed_at,
              detected_at=watch.detected_at, targets=fault.targets, checks=result)
    r.failovers = _switches(c) - switches_before
    r.redundancy_s = round(whole_at - fault_at, 2) if whole_at else None
    r.environment = environment(c, load=load, duration=duration, approval_s=approval_s,
                                provider=provider)
    if r.failovers > 1:
        notes.append(f"Sentinel failed over {r.failovers} times: it took the new primary for "
                     "down under load and promoted another; writes waited for a replica "
                     "meanwhile (see the Sentinel logs)")
    r.notes = notes
    evaluate_goals(r)
    return r, h


def _switches(c: clustermod.Cluster) -> int:
    """How many times the Sentinels have switched the primary so far (each Sentinel logs
    every switch it learns of; the most any one logged)."""
    counts = []
    for s in c.by_role("sentinel"):
        try:
            counts.append(Path(s.log).read_text(errors="replace").count("+switch-master"))
        except OSError:
            continue
    return max(counts, default=0)


def settle(c: clustermod.Cluster, targets: list[str], notes: list[str],
           timeout: float = 20) -> float | None:
    """Wait until the cluster is whole again; an old primary must be a replica now.
    When every process was healthy again (monotonic), None if not within ``timeout``."""
    deadline = time.monotonic() + timeout
    whole_at: float | None = None
    while time.monotonic() < deadline:
        if all(p["healthy"] for p in clustermod.health(c)):
            whole_at = time.monotonic()
            break
        time.sleep(0.25)
    else:
        notes.append("cluster not fully healthy 20 s after healing")
    primary = c.primary_port()
    for name in targets:
        m = c.member(name)
        if m.role != "redis" or m.port == primary:
            continue
        role = _role(c, m.port)
        while role != "slave" and time.monotonic() < deadline + 10:
            time.sleep(0.25)  # Sentinel demotes a returning old primary within seconds
            role = _role(c, m.port)
        notes.append(f"{name} (old primary or killed replica) is now: {role}")
        if role != "slave":
            notes.append(f"WARNING: {name} did not rejoin as a replica")
    return whole_at


def _role(c: clustermod.Cluster, port: int) -> str:
    try:
        r = c.redis_client(port, timeout=1)
        try:
            return str(r.info("replication")["role"])
        finally:
            r.close()
    except redis.RedisError as exc:
        return f"unreachable ({type(exc).__name__})"


def main(args: argparse.Namespace) -> int:
    c = clustermod.require_running(args.run_dir)
    if c is None:
        return 2
    print(f"drill {args.kind}: {args.load} citizens for {args.duration:.0f} s", flush=True)
    report, history = asyncio.run(drill(c, args.kind, load=args.load, duration=args.duration,
                                        approval_s=args.approval_delay,
                                        provider=getattr(args, "provider", "bankid"),
                                        show_progress=True))
    folder = Path(args.report)
    if (folder / f"drill-{args.kind}.json").exists() and not args.overwrite:
        folder = Path(args.run_dir) / "reports"
        print(f"{args.report} has a report of this drill: writing to {folder} instead "
              f"(--overwrite replaces it)")
    paths = write(report, history, folder)
    print(Path(paths["markdown"]).read_text())
    print(json.dumps({k: str(v) for k, v in paths.items()}))
    if report.skipped:
        print(f"skipped: {report.skipped}")
        return 0 if args.allow_skip else 3
    goals_missed = [k for k, v in report.goals.items() if not v["met"]]
    if goals_missed:
        print("goals not met: " + ", ".join(goals_missed))
    return 0 if report.passed and not (args.strict and goals_missed) else 1

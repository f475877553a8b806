"""The faults a drill injects, and how each is healed. Every fault acts on processes the
cluster started, by pid; nothing is found by name."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ha import frontdoor, procs
from ha.cluster import Cluster

KINDS = ("redis-primary-kill", "redis-primary-freeze", "replica-kill", "sentinel-kill",
         "sentinel-and-replica-kill", "node-kill", "two-nodes-kill", "node-freeze",
         "haproxy-reload", "rolling-restart", "primary-partition", "haproxy-kill",
         "front-door-freeze", "postgres-kill")
FREEZE_S = 4.0  # longer than Sentinel's down-after (1 s) + failover (~1.3 s)
NODE_FREEZE_S = 10.0  # longer than HAProxy's timeout server (8 s): the bound is seen


class Skipped(Exception):
    """The fault cannot be made on this machine; the message says why."""


@dataclass
class Fault:
    kind: str
    targets: list[str]  # member names
    watch: str  # what detection watches: "sentinel-primary", "haproxy", "sentinel-sdown", ""
    heal: Callable[[], None]
    hold_s: float = 6.0  # how long the fault stands before it is healed
    at: float = field(default_factory=time.monotonic)  # when the fault took effect


def _thaw(pid: int) -> Callable[[], None]:
    def heal() -> None:
        procs.signal_pid(pid, signal.SIGCONT)
    return heal


def _kill(c: Cluster, name: str) -> None:
    procs.signal_pid(c.member(name).pid, signal.SIGKILL)


def _wait_dead(c: Cluster, name: str) -> None:
    deadline = time.monotonic() + 5
    while c.member(name).proc().alive() and time.monotonic() < deadline:
        time.sleep(0.02)


def _restart(c: Cluster, *names: str) -> Callable[[], None]:
    def heal() -> None:
        for name in names:
            _wait_dead(c, name)
            m = c.restart(name)
            procs.wait_port(m.port, proc=m.proc(), timeout=20)
    return heal


def _front_door_holder(c: Cluster) -> str:
    """The HAProxy whose namespace holds the floating address (``--front-door ha``)."""
    net = c.front_door_net()
    if net is None:
        raise Skipped("needs the front door of two (cluster up --front-door ha): with one "
                      "HAProxy, killing it stops every login")
    held = frontdoor.holder(net)
    if held is None:
        raise Skipped("no front door holds the floating address")
    return "haproxy" if held == 1 else f"haproxy-{held}"


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its children (HAProxy's master and its workers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(int(c) for c in children)]


def _primary(c: Cluster) -> str:
    port = c.primary_port()
    if port is None:
        raise Skipped("no Sentinel names a primary")
    return c.redis_member(port).name


def _a_replica(c: Cluster) -> str:
    primary = c.primary_port()
    return next(m.name for m in c.by_role("redis") if m.port != primary)


def _iptables() -> str:
    found = shutil.which("iptables") or shutil.which("iptables-legacy")
    if not found:
        try:
            found = procs.require_binary("iptables", "iptables")
        except procs.ProcError as exc:
            raise Skipped(f"iptables is not available: {exc}") from exc
    return found


def _partition(port: int) -> tuple[Callable[[], None], Callable[[], None]]:
    """Drop every loopback packet to and from ``port``: the process is cut off."""
    ipt = _iptables()
    rules = [["INPUT", "-i", "lo", "-p", "tcp", "--dport", str(port), "-j", "DROP"],
             ["INPUT", "-i", "lo", "-p", "tcp", "--sport", str(port), "-j", "DROP"]]

    def apply() -> None:
        for r in rules:
            done = subprocess.run([ipt, "-I", *r], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise Skipped(f"iptables refused ({done.stderr.strip()[:120]}): no partition here")

    def remove() -> None:
        for r in rules:
            subprocess.run([ipt, "-D", *r], capture_output=True, check=False)

    return apply, remove


def inject(c: Cluster, kind: str) -> Fault:
    """Make the fault now; return how to heal it."""
    if kind == "redis-primary-kill":
        name = _primary(c)
        _kill(c, name)
        return Fault(kind, [name], "sentinel-primary", _restart(c, name))
    if kind == "redis-primary-freeze":
        name = _primary(c)
        pid = c.member(name).pid
        procs.signal_pid(pid, signal.SIGSTOP)
        return Fault(kind, [name], "sentinel-primary",
                     _thaw(pid), hold_s=FREEZE_S)
    if kind == "primary-partition":
        name = _primary(c)
        apply, remove = _partition(c.member(name).port)
        apply()
        return Fault(kind, [name], "sentinel-primary", remove)
    if kind == "replica-kill":
        name = _a_replica(c)
        _kill(c, name)
        return Fault(kind, [name], "sentinel-sdown", _restart(c, name))
    if kind == "sentinel-kill":
        name = c.by_role("sentinel")[0].name
        _kill(c, name)
        return Fault(kind, [name], "sentinel-sdown", _restart(c, name))
    if kind == "sentinel-and-replica-kill":
        names = [c.by_role("sentinel")[1].name, _a_replica(c)]
        for n in names:
            _kill(c, n)
        return Fault(kind, names, "sentinel-sdown", _restart(c, *names))
    if kind == "node-kill":
        name = c.by_role("node")[0].name
        _kill(c, name)
        return Fault(kind, [name], "haproxy", _restart(c, name))
    if kind == "two-nodes-kill":
        names = [m.name for m in c.by_role("node")[:2]]
        for n in names:
            _kill(c, n)
        return Fault(kind, names, "haproxy", _restart(c, *names))
    if kind == "node-freeze":
        name = c.by_role("node")[0].name
        pid = c.member(name).pid
        procs.signal_pid(pid, signal.SIGSTOP)
        return Fault(kind, [name], "haproxy",
                     _thaw(pid), hold_s=NODE_FREEZE_S)
    if kind == "haproxy-reload":
        # Master-worker mode: SIGUSR2 makes the master load the config again and start
        # new workers; the old ones finish their connections.
        procs.signal_pid(c.member("haproxy").pid, signal.SIGUSR2)
        return Fault(kind, ["haproxy"], "", lambda: None, hold_s=2.0)
    if kind == "postgres-kill":
        # The audit store: logins go on, their events wait in the stream.
        if not c.by_role("postgres"):
            raise Skipped("this cluster runs no PostgreSQL")
        _kill(c, "postgres")
        return Fault(kind, ["postgres"], "", _restart(c, "postgres"), hold_s=6.0)
    if kind == "haproxy-kill":
        name = _front_door_holder(c)
        _kill(c, name)  # the master: its workers end with it
        return Fault(kind, [name], "front-door", _restart(c, name), hold_s=4.0)
    if kind == "front-door-freeze":
        name = _front_door_holder(c)
        pids = _process_tree(c.member(name).pid)
        for pid in pids:
            procs.signal_pid(pid, signal.SIGSTOP)

        def thaw() -> None:
            for pid in pids:
                procs.signal_pid(pid, signal.SIGCONT)
        return Fault(kind, [name], "front-door", thaw, hold_s=FREEZE_S)
    if kind == "rolling-restart":
        names = [m.name for m in c.by_role("node")]
        return Fault(kind, names, "", lambda: None, hold_s=0.0)
    raise ValueError(f"unknown drill kind {kind!r}; one of {', '.join(KINDS)}")

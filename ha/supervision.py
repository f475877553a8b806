"""What dies comes back: the rules of the local cluster's supervisor (the process that
applies them is ``ha/supervisor.py``, which ``cluster up`` starts).

Every half second it looks at each process the cluster started, by pid. One that has
died is started again with its recorded command line, after a backoff that doubles
with each restart in a row (1 s, 2 s, 4 s … at most 30 s) and resets once the process
has lived a minute. Five restarts within two minutes is a crash loop: it is reported
(``cluster status``: ``CRASH LOOP``, the supervisor's log) and retried at the longest
backoff, never hidden. A drill or an operator command that stops a process on purpose
holds it first (``hold``), and the supervisor leaves it alone until the hold ends.

Restarts and holds are kept in ``<run dir>/supervisor.json`` (written atomically);
``cluster status`` reads them.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 60.0  # a process that lived this long starts its backoff again at 1 s
LOOP_RESTARTS = 5  # this many restarts …
LOOP_WINDOW_S = 120.0  # … within this long is a crash loop
TICK_S = 0.5


@dataclass
class Record:
    """What the supervisor knows of one process."""

    restarts: list[float] = field(default_factory=list)  # when it was restarted (epoch s)
    died_at: float | None = None  # when it was last seen dead (None: alive)
    next_try: float = 0.0
    backoff_s: float = BACKOFF_FIRST_S
    started_at: float = 0.0

    def crash_loop(self, now: float) -> bool:
        return sum(1 for t in self.restarts if now - t <= LOOP_WINDOW_S) >= LOOP_RESTARTS


@dataclass
class State:
    records: dict[str, Record] = field(default_factory=dict)
    holds: dict[str, float] = field(default_factory=dict)  # name → held until (epoch s)

    @classmethod
    def load(cls, run_dir: Path) -> State:
        try:
            data = json.loads((run_dir / "supervisor.json").read_text())
        except (OSError, ValueError):
            return cls()
        return cls({k: Record(**v) for k, v in data.get("records", {}).items()},
                   {k: float(v) for k, v in data.get("holds", {}).items()})

    def save(self, run_dir: Path) -> None:
        tmp = run_dir / "supervisor.json.tmp"
        tmp.write_text(json.dumps({"records": {k: asdict(v) for k, v in self.records.items()},
                                   "holds": self.holds}))
        tmp.replace(run_dir / "supervisor.json")


def decide(rec: Record, alive: bool, now: float) -> bool:
    """Pure: update ``rec`` with what was seen; True when the process is to be started
    again now."""
    if alive:
        rec.died_at = None
        if rec.started_at and now - rec.started_at >= STABLE_AFTER_S:
            rec.backoff_s = BACKOFF_FIRST_S
        return False
    if rec.died_at is None:
        rec.died_at = now
        rec.next_try = now + (BACKOFF_MAX_S if rec.crash_loop(now) else rec.backoff_s)
    if now < rec.next_try:
        return False
    rec.restarts.append(now)
    rec.restarts = [t for t in rec.restarts if now - t <= LOOP_WINDOW_S]
    rec.started_at, rec.died_at = now, None
    rec.backoff_s = min(rec.backoff_s * 2, BACKOFF_MAX_S)
    return True


def hold(run_dir: Path, names: list[str], seconds: float) -> None:
    """Leave ``names`` alone for ``seconds`` (a drill or an operator stops them)."""
    state = State.load(run_dir)
    until = time.time() + seconds
    for name in names:
        state.holds[name] = until
    state.save(run_dir)


def release(run_dir: Path, names: list[str]) -> None:
    state = State.load(run_dir)
    for name in names:
        state.holds.pop(name, None)
        rec = state.records.get(name)
        if rec is not None:
            rec.died_at = None
            rec.started_at = time.time()
    state.save(run_dir)


def status(run_dir: Path, name: str) -> str:
    """'' or what the supervisor has to say about ``name`` (restarts, crash loop)."""
    rec = State.load(run_dir).records.get(name)
    if rec is None or not rec.restarts:
        return ""
    now = time.time()
    recent = sum(1 for t in rec.restarts if now - t <= LOOP_WINDOW_S)
    return f"CRASH LOOP ({recent} restarts in 2 min)" if rec.crash_loop(now) else \
        f"restarted {recent}x in 2 min"



"""The local cluster's supervisor process (``python -m ha.supervisor RUN_DIR``, started by
``cluster up``): every half second it applies the rules of ``ha/supervision.py`` to each
process of the cluster and starts again what died."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from ha.cluster import Cluster
from ha.supervision import LOOP_WINDOW_S, TICK_S, Record, State, decide


def tick(run_dir: Path, log: list[str] | None = None) -> None:
    """One look at every process of the cluster in ``run_dir``."""
    c = Cluster.load(run_dir)
    if c is None:
        return
    state = State.load(run_dir)
    now = time.time()
    for m in list(c.members):
        if m.role == "supervisor" or state.holds.get(m.name, 0) > now:
            continue
        rec = state.records.setdefault(m.name, Record(started_at=now))
        if decide(rec, m.proc().alive(), now):
            c.restart(m.name)
            line = (f"{time.strftime('%H:%M:%S')} {m.name} died; started again "
                    f"(restart {len(rec.restarts)} in {LOOP_WINDOW_S:.0f} s"
                    f"{', CRASH LOOP' if rec.crash_loop(now) else ''}); next backoff "
                    f"{rec.backoff_s:.0f} s")
            print(line, flush=True)
            if log is not None:
                log.append(line)
    state.holds = {k: v for k, v in state.holds.items() if v > now}
    state.save(run_dir)


def main(argv: list[str]) -> int:
    run_dir = Path(argv[0]).resolve()
    print(f"supervising the cluster in {run_dir}", flush=True)
    while (run_dir / "cluster.json").exists():
        with contextlib.suppress(OSError, ValueError, KeyError):
            tick(run_dir)
        time.sleep(TICK_S)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

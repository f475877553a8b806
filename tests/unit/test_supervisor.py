"""The supervisor's rules (pure): a dead process is started again after a backoff that
doubles and resets once it lives a minute; five restarts in two minutes is a crash loop,
reported and retried at the longest backoff; a held process is left alone."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from ha import procs, supervision, supervisor
from ha.cluster import Cluster, Layout


def test_backoff_doubles_then_resets_after_a_minute_alive() -> None:
    rec = supervision.Record(started_at=0.0)
    waits = []
    now = 100.0
    for _ in range(4):
        assert not supervision.decide(rec, alive=False, now=now)  # seen dead: wait first
        died = now
        while not supervision.decide(rec, alive=False, now=now):
            now += 0.5
        waits.append(now - died)
        now += 1.0  # it dies again a second later
    assert waits == [1.0, 2.0, 4.0, 8.0]
    supervision.decide(rec, alive=True, now=now + supervision.STABLE_AFTER_S + 1)
    assert rec.backoff_s == supervision.BACKOFF_FIRST_S


def test_five_restarts_in_two_minutes_is_a_crash_loop_retried_at_the_longest_backoff() -> None:
    rec = supervision.Record()
    now = 0.0
    for _ in range(supervision.LOOP_RESTARTS):
        supervision.decide(rec, alive=False, now=now)
        now = rec.next_try
        assert supervision.decide(rec, alive=False, now=now)
        now += 0.1
    assert rec.crash_loop(now)
    supervision.decide(rec, alive=False, now=now)
    assert rec.next_try - now == supervision.BACKOFF_MAX_S
    assert not rec.crash_loop(now + supervision.LOOP_WINDOW_S + 1)


def test_a_killed_process_is_started_again_unless_held(tmp_path: Path) -> None:
    c = Cluster(tmp_path, Layout())
    (tmp_path / "logs").mkdir()
    c.start("sleeper", "demo", 0, [sys.executable, "-c", "import time; time.sleep(60)"])
    first = c.member("sleeper").pid
    try:
        supervision.hold(tmp_path, ["sleeper"], 30)
        procs.signal_pid(first, 9)
        time.sleep(0.2)
        for _ in range(4):
            supervisor.tick(tmp_path)
            time.sleep(0.4)
        assert Cluster.load(tmp_path).member("sleeper").pid == first  # type: ignore[union-attr]
        supervision.release(tmp_path, ["sleeper"])
        deadline = time.monotonic() + 5
        while Cluster.load(tmp_path).member("sleeper").pid == first:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "not restarted"
            supervisor.tick(tmp_path)
            time.sleep(0.2)
        again = Cluster.load(tmp_path)
        assert again is not None and again.member("sleeper").proc().alive()
        assert supervision.status(tmp_path, "sleeper").startswith("restarted 1x")
    finally:
        latest = Cluster.load(tmp_path)
        for m in latest.members if latest else []:
            procs.stop(m.proc())


def test_cluster_up_says_each_process_it_starts(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    c = Cluster(tmp_path, Layout())
    c.progress = True
    (tmp_path / "logs").mkdir()
    m = c.start("sleeper", "demo", 0, [sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        out = capsys.readouterr().out
        assert "started sleeper" in out and str(m.pid) in out
    finally:
        procs.stop(m.proc())

"""Benchmark: is this checkout cheaper per login than another commit? Both at once.

One login benchmark alone moves by a fifth from one minute to the next on this machine
(its neighbours come and go), so two versions measured one after the other cannot show
a change of a few per cent. Here both run *at the same time*: the commit ``--base``,
checked out in a worktree under ``run/``, and this checkout, each with its own Redis,
simulator and driver (``benchmarks.login_bench``), both nodes on CPU 0 and both
harnesses on CPU 1. Whatever the machine does in those seconds, it does to both. Each
pair's figure is the ratio of the two nodes' logins per node core; the starting order
alternates from pair to pair.

    python -m benchmarks.ab_bench --base REV [--modes bankid] [--pairs 3]
        [--warmup 4] [--duration 15] [--out benchmarks/results/NAME.json]

The nodes share a core, so each runs at about half speed and the harness's CPU is
shared too: the absolute figures are lower than ``login_bench``'s; only the ratio is
the result. Prints each pair and the median ratio per mode, writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ha import stack

RUN = stack.REPO / "run" / "ab"


def worktree(rev: str) -> Path:
    """``rev`` checked out under run/ab (made once per commit and kept for the next run;
    ``git worktree remove run/ab/<sha>`` drops it), sharing this venv."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=stack.REPO,
                         capture_output=True, text=True, check=True).stdout.strip()
    folder = RUN / sha[:12]
    if not folder.exists():
        RUN.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(folder), sha],
                       cwd=stack.REPO, check=True)
        (folder / ".venv").symlink_to(stack.REPO / ".venv")
    return folder


def _interruptible() -> None:
    """In the child before it starts: SIGINT stops it even when this script was started
    in the background (where the shell ignores SIGINT, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_pair(base: Path, a: argparse.Namespace, n: int) -> dict[str, dict[str, Any]]:
    """Both benchmarks started together; their JSON results by side."""
    sides = {"base": base, "this": stack.REPO}
    order = list(sides) if n % 2 == 0 else list(reversed(sides))
    procs: dict[str, tuple[subprocess.Popen[str], Path]] = {}
    for side in order:
        out = RUN / f"pair-{n}-{side}.json"
        cmd = [sys.executable, "-m", "benchmarks.login_bench", "--modes", a.modes,
               "--warmup", str(a.warmup), "--duration", str(a.duration), "--out", str(out),
               "--run-dir", str(RUN / f"bench-{side}")]
        procs[side] = (subprocess.Popen(cmd, cwd=sides[side], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        preexec_fn=_interruptible), out)
    results: dict[str, dict[str, Any]] = {}
    try:
        for side, (proc, out) in procs.items():
            log, _ = proc.communicate(timeout=a.warmup * 4 + a.duration * 4 + 600)
            if proc.returncode != 0:
                raise SystemExit(f"the {side} benchmark failed:\n{log[-3000:]}")
            results[side] = json.loads(out.read_text())["rounds"][0]["modes"]
    finally:
        # The other side, if this one failed or we were interrupted: SIGINT, so that
        # login_bench stops the Redis, simulator and node it started.
        for proc, _ in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
    return results


def compare(got: dict[str, dict[str, Any]], modes: list[str]) -> dict[str, dict[str, float]]:
    """One pair's figures per mode: each side's logins per node core and this ÷ base."""
    row: dict[str, dict[str, float]] = {}
    for mode in modes:
        b, t = got["base"][mode]["per_node_core"], got["this"][mode]["per_node_core"]
        row[mode] = {"base": b, "this": t, "ratio": round(t / b, 3)}
    return row


def medians(pairs: list[dict[str, Any]], modes: list[str]) -> dict[str, float]:
    """The median ratio of each mode over the pairs."""
    return {mode: round(statistics.median(p[mode]["ratio"] for p in pairs), 3) for mode in modes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the commit to compare this checkout with")
    ap.add_argument("--modes", default="bankid")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=4)
    ap.add_argument("--duration", type=float, default=15)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    # A SIGTERM (a timeout, an operator) unwinds like Ctrl-C: both sides are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base = worktree(a.base)
    this_rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=stack.REPO,
                              capture_output=True, text=True, check=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=stack.REPO, capture_output=True, text=True).stdout.strip())
    modes = a.modes.split(",")
    pairs: list[dict[str, Any]] = []
    for n in range(a.pairs):
        started = time.strftime("%H:%M:%S")
        row: dict[str, Any] = {"started": started, **compare(run_pair(base, a, n), modes)}
        for mode in modes:
            print(f"pair {n + 1}/{a.pairs} {mode:8} base {row[mode]['base']:8.1f}  this "
                  f"{row[mode]['this']:8.1f} per node core  this/base {row[mode]['ratio']:.3f}",
                  flush=True)
        pairs.append(row)
    summary = medians(pairs, modes)
    for mode, ratio in summary.items():
        print(f"median {mode:8} this/base {ratio:.3f} ({(ratio - 1) * 100:+.1f} %)")
    if a.out:
        Path(a.out).write_text(json.dumps({
            "base": a.base, "this": this_rev + ("+changes" if dirty else ""),
            "modes": a.modes, "warmup": a.warmup, "duration": a.duration,
            "pairs": pairs, "median_ratio": summary}, indent=2) + "\n")
        print(f"saved {a.out}")


if __name__ == "__main__":
    main()

"""Benchmark: complete logins per second on one idportal node process.

Starts its own redis-server (primary + one replica, so every confirmed write pays for
WAIT as in production), the BankID simulator approving at once, and one node (under its
default server, Uvicorn; Hypercorn, its other server; or Granian by import path, to
show the cost of the server), pinned: node on CPU 0, the rest on CPU 1. Drives whole logins with
benchmarks/driver.py and prints and saves (JSON): logins/s, per fully used node core,
p50/p95/p99, HTTP requests and Redis commands per login, and Redis memory per SSO
session.

    python -m benchmarks.login_bench [--server uvicorn|hypercorn|granian] [--modes bankid,pin,refresh]
        [--vus 32] [--warmup 5] [--duration 20] [--rounds 1] [--out benchmarks/results/NAME.json]
        [--peer PEER_FOLDER]

CPU is read at the two edges of the measured window. PIN logins are also given as a
share of the argon2id limit (verifications per second of CPU 0, measured by this
script with the register's parameters just before and after the run) and as the share
of the node's CPU its verifications took (its idportal_pin_verify_cpu_seconds); every
journey also gives the CPU of the node's event-loop thread per login (its main thread,
read from /proc; not under Granian). ``--modes mixed`` (not in the default) runs half
the users through BankID and half through a PIN at once: logins/s and latency are the
BankID logins' (the PIN logins beside them are given apart), Redis commands and event-loop
CPU per login of either kind.

--peer runs the peer (node-oidc-provider, its folder's bench.sh; set it up as its
README says, with an absolute PEER_DIR) right after ours with the same users and times,
and prints ours as a share of it. This machine's speed varies from day to day and from
minute to minute, so --rounds N alternates ours and the peer N times and reports the
medians and every round's share.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import redis
import uvloop

from benchmarks import driver
from ha import procs, stack
from ha.procs import cpu_seconds
from service.settings import DEFAULT_SERVER, SERVERS
from service.testpeople import personal_number

SECRET = "bench-secret-0123456789abcdef0123456789"


def tree(pid: int) -> list[int]:
    """The process and its descendants (Granian serves from a forked worker)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += parents.get(p, [])
    return out


def processor() -> str:
    """The processor's model name: this machine type is an AMD EPYC on some days and an
    Intel Xeon on others, and the figures are only comparable within one."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown processor"


def node_cpu(pid: int) -> float:
    return sum(cpu_seconds(p) for p in tree(pid))


def pin(pid: int, cpus: str) -> None:
    subprocess.run(["taskset", "-acp", cpus, str(pid)], check=False, capture_output=True)


# The bench's own probes, and the replica's acknowledgements (REPLCONF ACK, as many as
# WAITs happen to be coalesced), are not the node's commands.
IGNORED_COMMANDS = ("cmdstat_info", "cmdstat_ping", "cmdstat_replconf", "cmdstat_psync")


def commandstats(r: redis.Redis) -> int:
    info = r.info("commandstats")
    return sum(int(v["calls"]) for k, v in info.items()
               if k.startswith("cmdstat_") and k not in IGNORED_COMMANDS)


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return round(s[min(len(s) - 1, int(p / 100 * len(s)))] * 1000, 1)


def node_metrics(metrics_url: str) -> dict[str, float]:
    """From the node's internal /metrics listener: CPU seconds spent in argon2id
    verifications (``pin``) and its store calls by operation (``store:<op>``; each call
    is one round trip to Redis unless the retry policy had to try again)."""
    out = {"pin": 0.0}
    for line in httpx.get(metrics_url, timeout=10).text.splitlines():
        if line.startswith("idportal_pin_verify_cpu_seconds_sum "):
            out["pin"] = float(line.split()[1])
        elif line.startswith("idportal_store_call_seconds_count{"):
            op = line.split('op="', 1)[1].split('"', 1)[0]
            out["store:" + op] = float(line.split()[-1])
    return out


def argon2_limit(n: int = 30) -> float:
    """Verifications per second on CPU 0 with the register's argon2id parameters."""
    code = ("import time\nfrom service.providers.pin_hashes import hasher\n"
            "from service.settings import PinSettings\n"
            "ph = hasher(PinSettings())\nh = ph.hash('1234')\nph.verify(h, '1234')\n"
            f"t = time.perf_counter()\nfor _ in range({n}): ph.verify(h, '1234')\n"
            f"print({n} / (time.perf_counter() - t))")
    out = subprocess.run(["taskset", "-c", "0", procs.python(), "-c", code], cwd=stack.REPO,
                         capture_output=True, text=True, check=True)
    return round(float(out.stdout.strip()), 1)


def run_peer(folder: Path, ours: dict[str, Any], a: argparse.Namespace) -> dict[str, Any]:
    """The peer's own bench.sh (login, and refresh when we ran it), same VUs and times."""
    peer: dict[str, Any] = {}
    for mode, our_mode in (("login", "bankid"), ("refresh", "refresh")):
        if our_mode not in ours["modes"]:
            continue
        label = f"beside-idportal-{mode}"
        run = subprocess.run(
            ["bash", str(folder / "bench.sh"), label, "--mode", mode, "--vus", str(a.vus),
             "--warmup", str(a.warmup), "--duration", str(a.duration)],
            capture_output=True, text=True, env={**os.environ, "ALG": "ES256"})
        line = [x for x in run.stdout.splitlines() if x.startswith("{")]
        if run.returncode != 0 or not line:
            print(f"peer {mode}: failed ({run.stderr.strip()[-300:]})")
            continue
        got = json.loads(line[-1])
        mine = ours["modes"][our_mode]["per_node_core"]
        theirs = got.get("ok_per_s_per_provider_core") or 0
        peer[mode] = {"per_provider_core": theirs, "provider_cores": got.get("provider_cores"),
                      "driver_cores": got.get("driver_cores"), "p50_ms": got["lat_ms"]["p50"],
                      "p99_ms": got["lat_ms"]["p99"], "errors": got.get("errors"),
                      "ours_per_core": mine,
                      "ours_share": round(mine / theirs, 2) if theirs else None}
        print(f"peer     {mode:8} {theirs:7.1f}/s per provider core; ours {mine} "
              f"= {peer[mode]['ours_share']:.0%} of it", flush=True)
    return peer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=[*SERVERS, "granian"], default=DEFAULT_SERVER)
    ap.add_argument("--modes", default="bankid,pin,refresh")
    ap.add_argument("--vus", type=int, default=32)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat ours (and the peer) this many times, alternating; medians are reported")
    ap.add_argument("--run-dir", default="run/bench")
    ap.add_argument("--out", default="")
    ap.add_argument("--profile", default="", help="run the node under cProfile, write stats here")
    ap.add_argument("--peer", default="", help="the peer's folder (with bench.sh): run it beside ours")
    a = ap.parse_args()
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "server": a.server,
        "vus": a.vus, "warmup_s": a.warmup, "duration_s": a.duration,
        "machine": f"{processor()}, {platform.machine()}, {os.cpu_count()} cores, "
                   f"{platform.python_version()}",
        "rounds": [],
    }
    for i in range(a.rounds):
        if a.rounds > 1:
            print(f"-- round {i + 1} of {a.rounds}", flush=True)
        ours = run_ours(a)
        if a.peer:
            ours["peer"] = run_peer(Path(a.peer), ours, a)
        results["rounds"].append(ours)
    results["median"] = medians(results["rounds"])
    if a.rounds > 1:
        print_medians(results["median"])
    out = Path(a.out or f"benchmarks/results/login-{a.server}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {out}")
    return 0


def medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per mode: the median of ours per node core, of the peer per core, and every round's
    share (the machine's speed drifts between the minutes of one round, too)."""
    out: dict[str, Any] = {}
    for mode in rounds[0]["modes"]:
        ours = [r["modes"][mode]["per_node_core"] for r in rounds]
        out[mode] = {"ours_per_node_core": statistics.median(ours), "ours_all": ours,
                     "event_loop_ms_per_op": [r["modes"][mode].get("event_loop_cpu_ms_per_op")
                                              for r in rounds]}
        peer_mode = {"bankid": "login", "refresh": "refresh"}.get(mode, "")
        theirs = [r["peer"][peer_mode]["per_provider_core"]
                  for r in rounds if peer_mode in r.get("peer", {})]
        if theirs:
            out[mode].update(
                peer_per_core=statistics.median(theirs), peer_all=theirs,
                share_of_medians=round(statistics.median(ours) / statistics.median(theirs), 2),
                shares=[r["peer"][peer_mode]["ours_share"] for r in rounds if peer_mode in r["peer"]])
        if mode == "pin":
            out[mode]["argon2_share_of_node_cpu"] = [
                r["modes"][mode]["argon2_share_of_node_cpu"] for r in rounds]
            out[mode]["share_of_argon2_limit"] = [
                r["modes"][mode]["share_of_argon2_limit"] for r in rounds]
    return out


def print_medians(m: dict[str, Any]) -> None:
    for mode, x in m.items():
        line = f"median   {mode:8} ours {x['ours_per_node_core']:7.1f}/s per node core {x['ours_all']}"
        if "peer_per_core" in x:
            line += (f"; peer {x['peer_per_core']:7.1f} {x['peer_all']}: ours is "
                     f"{x['share_of_medians']:.0%} of it (rounds: {x['shares']})")
        if mode == "pin":
            line += (f"; argon2id share of node CPU {x['argon2_share_of_node_cpu']}, "
                     f"of the limit {x['share_of_argon2_limit']}")
        line += f"; event loop ms per login {x['event_loop_ms_per_op']}"
        print(line, flush=True)


def run_ours(a: argparse.Namespace) -> dict[str, Any]:
    """One run of ours: a fresh Redis pair, simulator and node; every mode in turn."""
    run_dir = Path(a.run_dir).resolve()
    rport, rport2, sim_port, node_port, metrics_port = procs.free_ports(5)
    started: list[procs.Proc] = []
    results: dict[str, Any] = {"modes": {}}
    try:
        m = stack.prepare(run_dir)
        r1 = procs.start_redis("redis", rport, run_dir / "r1", log=run_dir / "redis.log",
                               started=started)
        r2 = procs.start_redis("replica", rport2, run_dir / "r2", log=run_dir / "replica.log",
                               started=started, replica_of=rport)
        procs.wait_replication(rport, 1)
        # Under Uvicorn: the simulator shares CPU 1 with the driver and Redis, and under
        # Hypercorn it took half of it, which showed up in the logins' latency.
        sim = procs.spawn("sim", [procs.python(), "-m", "simulators.bankid", "--bind",
                                  f"127.0.0.1:{sim_port}", "--server", "uvicorn"],
                          log=run_dir / "sim.log", port=sim_port, cwd=stack.REPO)
        started.append(sim)
        clients = run_dir / "clients.toml"
        clients.write_text(f'''[[client]]
client_id = "bench"
secret_sha256 = "{hashlib.sha256(SECRET.encode()).hexdigest()}"
redirect_uris = ["http://127.0.0.1:9999/cb"]
scopes = ["openid", "profile", "https://id.oidc.se/scope/naturalPersonNumber"]
claims = ["given_name", "family_name", "name", "https://id.oidc.se/claim/personalIdentityNumber"]
''')
        issuer = f"http://127.0.0.1:{node_port}"
        settings = run_dir / "bench.toml"
        settings.write_text(f'''issuer = "{issuer}"
keys_dir = "{m.keys_dir}"
clients_file = "{clients}"
log_level = "info"
[redis]
url = "redis://127.0.0.1:{rport}/0"
wait_replicas = 1
[bankid]
base_url = "http://127.0.0.1:{sim_port}/rp/v6.0"
[pin]
register_file = "{stack.REPO / 'config' / 'pin-register.toml'}"
''')
        if a.server in SERVERS:
            # The node as it is run: idportal serve (drain, heap settling, limits).
            argv = [procs.python(), "-m", "service.cli", "--config", str(settings), "serve",
                    "--bind", f"127.0.0.1:{node_port}", "--server", a.server,
                    "--metrics-bind", f"127.0.0.1:{metrics_port}"]
        else:
            argv = [procs.python(), "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                    "--port", str(node_port), "--loop", "uvloop", "--no-log", "service.asgi:app"]
        if a.profile:
            argv = [argv[0], "-m", "cProfile", "-o", str(Path(a.profile).resolve()), *argv[1:]]
        node = procs.spawn("node", argv, log=run_dir / "node.log", port=node_port,
                           env={"IDPORTAL_CONFIG": str(settings)}, cwd=stack.REPO)
        started.append(node)
        stack.wait_http(f"{issuer}/readyz", None, proc=node)
        procs.wait_port(sim_port, proc=sim)
        for p in tree(node.pid):
            pin(p, "0")
        for p in (r1.pid, r2.pid, sim.pid, os.getpid()):
            pin(p, "1")
        rc = redis.Redis(port=rport)
        target = driver.Target(base=issuer, phone=f"http://127.0.0.1:{sim_port}", client_id="bench",
                               secret=SECRET, redirect_uri="http://127.0.0.1:9999/cb",
                               # 200 citizens for 32 users: the PIN lockout counts
                               # attempts in flight, so one citizen logging in six times
                               # at once from one address would be refused (as it should).
                               pnrs=[personal_number(i) for i in range(200)])
        for mode in a.modes.split(","):
            rc.flushall()
            # The PIN register lives in the store: back in before each run, as a city's
            # would be (idportal pin import), before the baseline of the memory reading.
            subprocess.run([procs.python(), "-m", "service.cli", "--config", str(settings),
                            "pin", "import", str(stack.REPO / "config" / "pin-register.toml"),
                            "--operator", "benchmark", "--reason", "seed", "--replace"],
                           cwd=stack.REPO, check=True, capture_output=True)
            # The argon2id limit is measured on the node's core (idle now) just before
            # and after the PIN run: the machine's speed drifts within minutes.
            limits = [argon2_limit()] if mode == "pin" else []

            def sample() -> dict[str, float]:
                """The counters, read at each edge of the measured window."""
                return {"t": time.monotonic(), "node": node_cpu(node.pid),
                        "loop": cpu_seconds(node.pid, node.pid),
                        "redis": cpu_seconds(r1.pid) + cpu_seconds(r2.pid),
                        "primary": cpu_seconds(r1.pid),
                        "sim": cpu_seconds(sim.pid), "me": cpu_seconds(os.getpid()),
                        "cmds": commandstats(rc),
                        **node_metrics(f"http://127.0.0.1:{metrics_port}/metrics")}

            edges: dict[str, dict[str, float]] = {}
            # uvloop: the driver shares CPU 1 with Redis and the simulator, and must not
            # be what keeps the node waiting.
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                stats = runner.run(driver.run(
                    target, mode=mode, vus=a.vus, warmup=a.warmup, duration=a.duration,
                    on_measure_start=lambda e=edges: e.update(start=sample()),
                    on_measure_end=lambda e=edges: e.update(end=sample())))
            used = {k: edges["end"][k] - edges["start"].get(k, 0.0) for k in edges["end"]}
            # Per login; in mode "mixed" per login of either kind (the node's CPU and the
            # store's commands are both kinds' together).
            done = max(stats.ok + (stats.pin.ok if stats.pin else 0), 1)
            calls = {k.removeprefix("store:"): round(v / done, 2)
                     for k, v in sorted(used.items()) if k.startswith("store:") and v}
            elapsed = used["t"]
            node_cores = used["node"] / elapsed
            cmds = used["cmds"]
            sessions = [k for k in rc.scan_iter("idp:sess:*", count=1000)][:200]
            mem = [rc.memory_usage(k) or 0 for k in sessions]
            res: dict[str, Any] = {
                "ok": stats.ok, "errors": stats.errors,
                "per_s": round(stats.ok / elapsed, 1),
                "per_node_core": round(stats.ok / elapsed / node_cores, 1) if node_cores else 0,
                "p50_ms": pct(stats.latencies, 50), "p95_ms": pct(stats.latencies, 95),
                "p99_ms": pct(stats.latencies, 99),
                "http_requests_per_op": round(stats.requests / max(stats.ok, 1), 2),
                "phone_requests_per_op": round(stats.phone_requests / max(stats.ok, 1), 2),
                "redis_commands_per_op": round(cmds / done, 1),
                "redis_round_trips_per_op": round(sum(calls.values()), 2),
                "store_calls_per_op": calls,
                "node_cores": round(node_cores, 2),
                # The event loop's own thread (the node's main thread: not under
                # Granian, which serves from a forked worker); the rest of the node's
                # CPU is its other threads: argon2id verifications, the metrics listener.
                "event_loop_cpu_ms_per_op": round(1000 * used["loop"] / done, 2)
                if a.server != "granian" else None,
                "redis_cores": round(used["redis"] / elapsed, 2),
                "redis_primary_cores": round(used["primary"] / elapsed, 3),
                # What one Redis primary core would carry of this journey alone.
                "per_primary_core": round(done / used["primary"]) if used["primary"] else None,
                "simulator_cores": round(used["sim"] / elapsed, 2),
                "driver_cores": round(used["me"] / elapsed, 2),
                "redis_bytes_per_session": round(statistics.mean(mem)) if mem else None,
            }
            if stats.pin is not None:  # mode "mixed": the BankID figures above, and
                res.update(
                    pin_per_s=round(stats.pin.ok / elapsed, 1),
                    pin_p50_ms=pct(stats.pin.latencies, 50),
                    pin_p99_ms=pct(stats.pin.latencies, 99), pin_errors=stats.pin.errors,
                    argon2_share_of_node_cpu=round(used["pin"] / used["node"], 2))
            if limits:
                # Of the node's CPU in the window, the share its verifications took (the
                # node's own counter: same core, same seconds, whatever the drift).
                res["argon2_share_of_node_cpu"] = round(
                    used["pin"] / used["node"], 2)
                res["argon2_cpu_ms_per_verification_in_node"] = round(
                    1000 * used["pin"] / max(stats.ok, 1), 1)
                limits.append(argon2_limit())
                res["argon2_verifications_per_s_cpu0"] = round(statistics.mean(limits), 1)
                res["argon2_cpu_ms_per_verification_at_limit"] = round(
                    1000 / res["argon2_verifications_per_s_cpu0"], 1)
                res["share_of_argon2_limit"] = round(
                    res["per_node_core"] / res["argon2_verifications_per_s_cpu0"], 2)
            results["modes"][mode] = res
            print(f"{a.server:9} {mode:8} {res['per_s']:7.1f}/s  per node core {res['per_node_core']:7.1f}"
                  f"  p50 {res['p50_ms']:6.1f}  p95 {res['p95_ms']:6.1f}  p99 {res['p99_ms']:6.1f} ms"
                  f"  http/op {res['http_requests_per_op']}  redis cmds/op {res['redis_commands_per_op']}"
                  f"  node {res['node_cores']} cores  errors {sum(stats.errors.values())}"
                  f"  session {res['redis_bytes_per_session']} B", flush=True)
            if stats.pin is not None:
                print(f"          beside them {res['pin_per_s']} PIN logins/s (p50 "
                      f"{res['pin_p50_ms']}, p99 {res['pin_p99_ms']} ms, errors "
                      f"{sum(stats.pin.errors.values())}); argon2id "
                      f"{res['argon2_share_of_node_cpu']:.0%} of the node's CPU", flush=True)
            if limits:
                print(f"          argon2id limit on CPU 0 {limits[0]}/s before, {limits[1]}/s after: "
                      f"PIN logins per core are {res['share_of_argon2_limit']:.0%} of it; "
                      f"the node spent {res['argon2_share_of_node_cpu']:.0%} of its CPU in "
                      f"argon2id ({res['argon2_cpu_ms_per_verification_in_node']} ms each, "
                      f"{res['argon2_cpu_ms_per_verification_at_limit']} ms at the limit), "
                      f"its event loop {res['event_loop_cpu_ms_per_op']} ms a login",
                      flush=True)
        rc.close()
    finally:
        for proc in reversed(started):
            procs.stop(proc)
    return results


if __name__ == "__main__":
    sys.exit(main())

"""Starting and stopping the real processes (redis-server, Sentinel, auth nodes,
HAProxy, the simulator) on loopback. Used by the cluster, the dev run and the tests.

Every process is started in its own session and stopped by its pid: never by name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ha import redis_auth
from ha.redis_auth import RedisAuth

LOOPBACK = "127.0.0.1"
# A Redis that reaches this refuses writes (noeviction) instead of being killed by the
# kernel: logins stop with a clear 503, nothing stored is lost. An alert fires well
# before (ha/monitoring/alerts.yml, RedisMemoryNearLimit).
REDIS_MAXMEMORY = "512mb"


class ProcError(RuntimeError):
    pass


@dataclass
class Proc:
    name: str
    pid: int
    port: int
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return _not_zombie(self.pid)


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time of a process (all its threads), or of one of its threads
    (``thread``: its id; the process's own id is its main thread), from /proc."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((LOOPBACK, 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def require_binary(name: str, apt_package: str) -> str:
    """The binary's path; installed with apt when missing and running as root."""
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists()
                                   else None)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", apt_package], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists()
                                       else None)
        if found:
            return found
    raise ProcError(f"{name} is missing: install it with 'sudo apt-get install {apt_package}'")


def spawn(name: str, argv: list[str], *, log: Path, port: int, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> Proc:
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab")  # noqa: SIM115 - handed to the child
    try:
        popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True, env={**os.environ, **(env or {})},
                                 cwd=cwd)
    finally:
        out.close()
    return Proc(name=name, pid=popen.pid, port=port, log=log, popen=popen)


def wait_port(port: int, *, timeout: float = 10.0, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise ProcError(f"{proc.name} exited; see {proc.log}")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 0.2):
            return
        time.sleep(0.05)
    raise ProcError(f"nothing listens on {LOOPBACK}:{port} after {timeout} s")


def signal_pid(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def stop(proc: Proc, *, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; a frozen process is thawed first."""
    if not proc.alive():
        _reap(proc)
        return
    signal_pid(proc.pid, signal.SIGCONT)
    signal_pid(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            _reap(proc)
            return
        time.sleep(0.05)
    signal_pid(proc.pid, signal.SIGKILL)
    _reap(proc)


def _reap(proc: Proc) -> None:
    if proc.popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=5)


def python() -> str:
    return sys.executable


# --- Redis and Sentinel -------------------------------------------------------------

def redis_argv(binary: str, port: int, folder: Path, *, replica_of: int | None = None,
               aof: bool = True, min_replicas: int = 0,
               auth: RedisAuth | None = None) -> list[str]:
    """The command line of one redis-server. With ``auth`` its users and replication
    secret go into a configuration file of mode 600 in ``folder``: never on the command
    line, where ``ps`` shows them."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = [binary]
    if auth is not None:
        conf = folder / "redis.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(redis_auth.redis_conf_lines(auth)) + "\n")
        argv.append(str(conf))
    argv += ["--port", str(port), "--bind", LOOPBACK, "--dir", str(folder),
             "--save", "", "--appendonly", "yes" if aof else "no",
             "--appendfsync", "everysec", "--daemonize", "no", "--protected-mode", "yes",
             "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
             "--maxmemory", REDIS_MAXMEMORY, "--maxmemory-policy", "noeviction"]
    if replica_of is not None:
        argv += ["--replicaof", LOOPBACK, str(replica_of)]
    if min_replicas:
        # A primary cut off from its replicas stops taking writes after the lag bound.
        argv += ["--min-replicas-to-write", str(min_replicas), "--min-replicas-max-lag", "2"]
    return argv


def start_redis(name: str, port: int, folder: Path, *, log: Path, started: list[Proc],
                aof: bool = False, replica_of: int | None = None) -> Proc:
    """A redis-server on loopback, listening when this returns. It is appended to
    ``started`` before the wait, so the caller's clean-up stops it even if it never comes up."""
    binary = require_binary("redis-server", "redis-server")
    p = spawn(name, redis_argv(binary, port, folder, aof=aof, replica_of=replica_of),
              log=log, port=port)
    started.append(p)
    wait_port(port, proc=p)
    return p


def sentinel_conf(path: Path, *, port: int, primary_port: int, service: str = "idportal",
                  quorum: int = 2, down_after_ms: int = 1000, failover_timeout_ms: int = 5000,
                  auth: RedisAuth | None = None) -> Path:
    # down-after 1000 ms: the measured floor without false failovers on this kind of
    # machine (500 ms gives false alarms); failover-timeout 5000 ms bounds a stuck
    # failover and the wait before the same primary is tried again.
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"port {port}", f"bind {LOOPBACK}", f"dir {path.parent}", "daemonize no",
        f"sentinel monitor {service} {LOOPBACK} {primary_port} {quorum}",
        f"sentinel down-after-milliseconds {service} {down_after_ms}",
        f"sentinel failover-timeout {service} {failover_timeout_ms}",
        f"sentinel parallel-syncs {service} 1",
        "sentinel resolve-hostnames no",
    ]
    if auth is not None:
        lines += redis_auth.sentinel_conf_lines(auth, service)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def redis_client(port: int, *, timeout: float = 0.5, decode: bool = False,
                 username: str | None = None, password: str | None = None) -> Any:
    """A synchronous client for tooling (status, drills, tests): short timeouts and no
    retries. redis-py's default retries a refused connection three times with backoff,
    which made one dead Sentinel stall a drill's event loop for 4 s."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(host=LOOPBACK, port=port, socket_timeout=timeout,
                       socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0),
                       decode_responses=decode, username=username, password=password)


def wait_replication(port: int, replicas: int, *, timeout: float = 15.0,
                     username: str | None = None, password: str | None = None) -> None:
    """Until the primary on ``port`` reports ``replicas`` connected, online replicas."""
    import redis

    client = redis_client(port, timeout=1, username=username, password=password)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                info = client.info("replication")
                online = sum(1 for k, v in info.items() if k.startswith("slave")
                             and isinstance(v, dict) and v.get("state") == "online")
                if online >= replicas:
                    return
            time.sleep(0.1)
    finally:
        client.close()
    raise ProcError(f"primary on {port} has fewer than {replicas} online replicas")

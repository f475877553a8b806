"""Real redis-server and Sentinel processes for the tests, on free loopback ports.

Every start is paired with a stop by pid in a ``finally``, so a failing test leaves
nothing running."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis

from ha import procs


@dataclass
class SentinelSet:
    primary: procs.Proc
    replicas: list[procs.Proc]
    sentinels: list[procs.Proc]
    service: str = "idportal"
    all: list[procs.Proc] = field(default_factory=list)

    @property
    def sentinel_addrs(self) -> tuple[str, ...]:
        return tuple(f"127.0.0.1:{s.port}" for s in self.sentinels)

    def current_primary_port(self) -> int:
        for s in self.sentinels:
            if not s.alive():
                continue
            with contextlib.suppress(redis.RedisError):
                c = procs.redis_client(s.port)
                addr = c.sentinel_get_master_addr_by_name(self.service)
                c.close()
                if addr:
                    return int(addr[1])
        raise RuntimeError("no Sentinel answers")

    def wait_new_primary(self, old_port: int, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(RuntimeError):
                port = self.current_primary_port()
                if port != old_port:
                    c = procs.redis_client(port)
                    with contextlib.suppress(redis.RedisError):
                        if c.info("replication")["role"] == "master":
                            c.close()
                            return port
                    c.close()
            time.sleep(0.1)
        raise RuntimeError("no failover happened")

    def proc_on(self, port: int) -> procs.Proc:
        return next(p for p in self.all if p.port == port)


@contextlib.contextmanager
def single_redis(folder: Path) -> Iterator[procs.Proc]:
    started: list[procs.Proc] = []
    try:
        yield procs.start_redis("redis", procs.free_port(), folder, log=folder / "redis.log",
                                started=started)
    finally:
        for p in started:
            procs.stop(p)


@contextlib.contextmanager
def sentinel_set(folder: Path, *, replicas: int = 2, sentinels: int = 3) -> Iterator[SentinelSet]:
    binary = procs.require_binary("redis-server", "redis-server")
    ports = procs.free_ports(1 + replicas + sentinels)
    started: list[procs.Proc] = []
    try:
        primary = procs.spawn("redis-0", procs.redis_argv(
            binary, ports[0], folder / "r0", min_replicas=1), log=folder / "r0.log", port=ports[0])
        started.append(primary)
        procs.wait_port(ports[0], proc=primary)
        reps = []
        for i in range(replicas):
            port = ports[1 + i]
            rp = procs.spawn(f"redis-{i + 1}", procs.redis_argv(
                binary, port, folder / f"r{i + 1}", replica_of=ports[0], min_replicas=1),
                log=folder / f"r{i + 1}.log", port=port)
            started.append(rp)
            reps.append(rp)
        for rp in reps:
            procs.wait_port(rp.port, proc=rp)
        procs.wait_replication(ports[0], replicas)
        sents = []
        for i in range(sentinels):
            port = ports[1 + replicas + i]
            conf = procs.sentinel_conf(folder / f"s{i}" / "sentinel.conf", port=port,
                                       primary_port=ports[0])
            sp = procs.spawn(f"sentinel-{i}", [binary, str(conf), "--sentinel"],
                             log=folder / f"s{i}.log", port=port)
            started.append(sp)
            sents.append(sp)
        for sp in sents:
            procs.wait_port(sp.port, proc=sp)
        s = SentinelSet(primary, reps, sents, all=started)
        _wait_sentinels_know_replicas(s, replicas)
        yield s
    finally:
        for p in reversed(started):
            procs.stop(p)


def _wait_sentinels_know_replicas(s: SentinelSet, replicas: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ok = 0
        for sp in s.sentinels:
            with contextlib.suppress(redis.RedisError):
                c = procs.redis_client(sp.port)
                info = c.sentinel_master(s.service)
                if int(info.get("num-slaves", 0)) >= replicas and int(
                        info.get("num-other-sentinels", 0)) >= len(s.sentinels) - 1:
                    ok += 1
                c.close()
        if ok == len(s.sentinels):
            return
        time.sleep(0.2)
    raise RuntimeError("Sentinels did not discover the replicas and each other")

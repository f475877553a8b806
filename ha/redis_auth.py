"""Who may talk to the cluster's Redis and Sentinels, and with what secret.

Redis runs with ACL users, one per role, and no default user:
- ``idportal``: the auth nodes, limited to the commands the store uses and to keys under
  the store's prefix (``service/store/keys.py``);
- ``replication``: replicas syncing from the primary (``masteruser``);
- ``sentinel``: Sentinels monitoring and failing over (the set Redis documents for it);
- ``admin``: operator tooling (``cluster status``, drills, the support desk);
- ``monitoring``: prometheus-redis-exporter, the server's state only (no key, no value).
Every Sentinel requires a password too (``requirepass``; ``sentinel-pass`` among
themselves), so no local process can point them at a rogue primary.

Secrets are random, live in files of mode 600 under the run directory, and reach
processes through files (Redis and Sentinel configuration, the node's settings) or the
environment, never a command line that ``ps`` shows. The ACL file holds only SHA-256
hashes of the passwords.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from service.store.keys import PREFIX

USERS = ("admin", "idportal", "replication", "sentinel", "monitoring")
SENTINEL_SECRET = "sentinels"  # the Sentinels' own password (their default user)

# What the store runs (service/store: its commands and the commands inside its Lua
# scripts). redis-py's CLIENT SETINFO on connect is refused and ignored (Redis 7.0 has
# none). A command added to the store must be added here: the cluster tests run every
# store operation through this user.
NODE_COMMANDS = (
    "get", "set", "del", "exists", "expire", "expireat", "pexpire", "ttl", "pttl", "incr",
    "decr", "mget", "hset", "hget", "hgetall", "hmget", "hdel", "hexists", "hkeys",
    "hincrby", "sadd", "sismember", "zadd", "zrem", "zscore", "zrangebyscore", "zcard",
    "eval", "evalsha", "wait", "ping", "multi", "exec", "discard",
    # The support desk (idportal support: a citizen's sessions and PIN counters).
    "smembers", "scan",
    # The audit stream (service/store/audit.py).
    "xadd", "xlen", "xgroup|create", "xreadgroup", "xautoclaim", "xack", "xdel",
)
# Redis's documentation for a Sentinel's user (sentinel.md, "Redis Access Control List").
SENTINEL_COMMANDS = ("multi", "slaveof", "ping", "exec", "subscribe", "config|rewrite", "role",
                     "publish", "info", "client|setname", "client|kill", "script|kill")
REPLICATION_COMMANDS = ("psync", "replconf", "ping")
# prometheus-redis-exporter: the server's state, never a key's value.
MONITORING_COMMANDS = ("ping", "info", "config|get", "client|list", "slowlog|get",
                       "slowlog|len", "latency|latest", "select", "dbsize", "memory|stats")


@dataclass(frozen=True)
class RedisAuth:
    folder: Path

    def secret_file(self, name: str) -> Path:
        return self.folder / f"{name}.secret"

    def password(self, name: str) -> str:
        return self.secret_file(name).read_text().strip()

    def acl_file(self) -> Path:
        return self.folder / "users.acl"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def create(folder: Path) -> RedisAuth:
    """The secrets (kept if they exist: a restarted cluster keeps its passwords) and the
    ACL file every Redis of the cluster loads."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    auth = RedisAuth(folder)
    for name in (*USERS, SENTINEL_SECRET):
        if not auth.secret_file(name).exists():
            _write_private(auth.secret_file(name), secrets.token_urlsafe(32) + "\n")
    _write_private(auth.acl_file(), acl_text(auth))
    return auth


def _hash(password: str) -> str:
    return "#" + hashlib.sha256(password.encode()).hexdigest()


def acl_text(auth: RedisAuth) -> str:
    def allow(commands: tuple[str, ...]) -> str:
        return " ".join("+" + c for c in commands)

    return "\n".join((
        "user default off resetkeys resetchannels -@all",
        f"user admin on {_hash(auth.password('admin'))} ~* &* +@all",
        f"user idportal on {_hash(auth.password('idportal'))} resetkeys ~{PREFIX}* "
        f"resetchannels -@all {allow(NODE_COMMANDS)}",
        f"user replication on {_hash(auth.password('replication'))} resetkeys resetchannels "
        f"-@all {allow(REPLICATION_COMMANDS)}",
        f"user sentinel on {_hash(auth.password('sentinel'))} resetkeys "
        f"resetchannels &__sentinel__:hello -@all {allow(SENTINEL_COMMANDS)}",
        f"user monitoring on {_hash(auth.password('monitoring'))} resetkeys resetchannels "
        f"-@all {allow(MONITORING_COMMANDS)}",
    )) + "\n"


def redis_conf_lines(auth: RedisAuth) -> list[str]:
    """What a Redis of the cluster adds to its configuration file (mode 600): the users,
    and how it authenticates as a replica (any of them may become one after a failover)."""
    return [f"aclfile {auth.acl_file()}", "masteruser replication",
            f"masterauth {auth.password('replication')}"]


def sentinel_conf_lines(auth: RedisAuth, service: str) -> list[str]:
    return [f"requirepass {auth.password(SENTINEL_SECRET)}",
            f"sentinel sentinel-pass {auth.password(SENTINEL_SECRET)}",
            f"sentinel auth-user {service} sentinel",
            f"sentinel auth-pass {service} {auth.password('sentinel')}"]

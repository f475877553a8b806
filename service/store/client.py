"""The connection to the session store: Sentinel (HA) or one Redis URL (development).

One pool is created at start-up (``Sentinel.master_for`` builds a new pool per call).
Every call goes through ``StoreClient.run``: the one retry policy, metrics, and WAIT
confirmation for writes a citizen would lose in a failover.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import hiredis
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, ResponseError

from service import metrics
from service.settings import RedisSettings
from service.store.retry import (
    ReplicationNotConfirmed,
    StoreUnavailable,
    call_with_retry,
)

T = TypeVar("T")
log = structlog.get_logger("idportal.store")


def _no_client_retry() -> Retry:
    # redis-py retries on its own by default; the store's policy must be the only one.
    return Retry(NoBackoff(), 0)


def _secret(value: str, path: str) -> str | None:
    """A password given in the settings, or read from its file (start-up only)."""
    if path:
        with open(path) as f:
            return f.read().strip()
    return value or None


def _tls(cfg: RedisSettings) -> dict[str, Any]:
    if not cfg.tls:
        return {}
    return {"ssl": True, "ssl_ca_certs": cfg.tls_ca_file or None,
            "ssl_certfile": cfg.tls_cert_file or None, "ssl_keyfile": cfg.tls_key_file or None,
            "ssl_cert_reqs": "required", "ssl_check_hostname": False,
            "ssl_min_version": ssl.TLSVersion.TLSv1_2}


def connect(cfg: RedisSettings) -> Redis:
    # No per-command socket timeout: redis-py would start a task (wait_for) for every
    # send and a timer for every reply. StoreClient bounds each attempt as a whole.
    common: dict[str, Any] = {
        "socket_timeout": None,
        "socket_connect_timeout": cfg.socket_timeout_s,
        "retry": _no_client_retry(),
        "decode_responses": True,
        "max_connections": cfg.max_connections,
        "health_check_interval": 0,
        "username": cfg.username or None,
        "password": _secret(cfg.password, cfg.password_file),
        **_tls(cfg),
    }
    if cfg.sentinels:
        nodes = [(a.rpartition(":")[0], int(a.rpartition(":")[2])) for a in cfg.sentinels]
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            nodes,
            sentinel_kwargs={"socket_timeout": cfg.socket_timeout_s,
                             "socket_connect_timeout": cfg.socket_timeout_s,
                             "retry": _no_client_retry(),
                             "password": _secret(cfg.sentinel_password,
                                                 cfg.sentinel_password_file),
                             **_tls(cfg)},
        )
        master: Redis = sentinel.master_for(cfg.service_name, **common)
        return master
    url = cfg.url
    if common.pop("ssl", False) and url.startswith("redis://"):
        url = "rediss://" + url.removeprefix("redis://")  # TLS by the URL's scheme
    return Redis.from_url(url, **common)


class StoreClient:
    """Runs store operations under the retry policy."""

    def __init__(self, redis: Redis, cfg: RedisSettings) -> None:
        self.redis = redis
        self.cfg = cfg
        self._primary: Any = None
        self._timers: dict[str, Any] = {}  # latency histogram per operation name

    async def close(self) -> None:
        await self.redis.aclose()

    async def probe(self, within_s: float) -> bool:
        """One ping outside the retry policy (readiness): True when the primary answered
        within ``within_s``; on failure the pooled connections are dropped, so the next
        call asks Sentinel where the primary is."""
        try:
            async with asyncio.timeout(within_s):
                await self.redis.ping()
            return True
        except Exception as exc:  # any failure only means "not reached this time"
            log.warning("store_ping_failed", error=type(exc).__name__)
            await self.redis.connection_pool.disconnect(inuse_connections=False)
            return False

    async def _on_retry(self, exc: BaseException) -> None:
        metrics.STORE_RETRIES.labels(type(exc).__name__).inc()
        log.warning("store_retry", error=type(exc).__name__, detail=str(exc)[:200])
        # Drop pooled connections: the next one asks Sentinel where the primary is.
        await self.redis.connection_pool.disconnect(inuse_connections=False)

    def _note_primary(self) -> None:
        address = getattr(self.redis.connection_pool, "master_address", None)
        if address is not None and address != self._primary:
            if self._primary is not None:
                metrics.FAILOVERS_SEEN.inc()
                log.warning("store_primary_changed", old=str(self._primary), new=str(address))
            self._primary = address

    async def _attempt(self, op: Callable[[Redis], Awaitable[T]]) -> T:
        """One attempt, bounded by socket_timeout_s as a whole: a primary that stops
        answering (frozen, cut off) raises TimeoutError, which the policy retries.
        redis-py closes a connection whose command was cancelled, so no late reply can
        reach another caller."""
        async with asyncio.timeout(self.cfg.socket_timeout_s):
            return await op(self.redis)

    async def once(self, op: Callable[[Redis], Awaitable[T]]) -> T:
        """One bounded attempt outside the retry policy, for background pollers: they
        try again on their own schedule, and a failover must not show up as the 503s
        that ``store_unavailable`` counts."""
        return await self._attempt(op)

    async def run(self, name: str, op: Callable[[Redis], Awaitable[T]]) -> T:
        """Run an idempotent operation, riding out a failover within the budget."""
        started = time.perf_counter()
        try:
            return await call_with_retry(lambda: self._attempt(op), budget_s=self.cfg.retry_budget_s,
                                         on_retry=self._on_retry)
        except StoreUnavailable:
            metrics.STORE_UNAVAILABLE.inc()
            log.error("store_unavailable", op=name)
            raise
        finally:
            self._note_primary()
            timer = self._timers.get(name)
            if timer is None:
                timer = self._timers[name] = metrics.STORE_LATENCY.labels(name)
            timer.observe(time.perf_counter() - started)

    async def confirmed(self, name: str, build: Callable[[Pipeline], None]) -> list[Any]:
        """Run the commands ``build`` adds, then WAIT until a replica has them.

        The commands must be idempotent (the whole batch is retried). If no replica
        confirms within ``wait_timeout_ms`` the batch is retried and, past the budget,
        fails closed with ``StoreUnavailable``.
        """
        wait = self.cfg.wait_replicas

        async def op(redis: Redis) -> list[Any]:
            pipe = redis.pipeline(transaction=False)
            build(pipe)
            if wait:
                pipe.wait(wait, self.cfg.wait_timeout_ms)
            results: list[Any] = await pipe.execute()
            if wait:
                acked = results.pop()
                if int(acked) < wait:
                    raise ReplicationNotConfirmed(f"{acked} of {wait} replicas confirmed")
            return results

        return await self.run(name, op)

    async def confirmed_eval(self, name: str, script: str, keys: list[str],
                             args: list[Any]) -> Any:
        """Run one Lua script and confirm its writes on a replica: EVALSHA and WAIT sent
        together on one pooled connection, one round trip (EVAL and WAIT again, the
        same round trip's cost, when the primary does not have the script yet: a new or
        just promoted one). Straight on the connection rather than through a redis-py
        pipeline object: about 35 µs less per call (BENCHMARKS.md)."""
        sha = _sha1(script)
        wait = self.cfg.wait_replicas
        confirm: tuple[Any, ...] = ("WAIT", wait, self.cfg.wait_timeout_ms) if wait else ()

        async def op(redis: Redis) -> Any:
            replies = await _pooled(redis, ("EVALSHA", sha, len(keys), *keys, *args), confirm,
                                    ("EVAL", script, len(keys), *keys, *args))
            if isinstance(replies[0], ResponseError):
                raise replies[0]
            if confirm:
                if isinstance(replies[1], ResponseError):
                    raise replies[1]
                if int(replies[1]) < wait:
                    raise ReplicationNotConfirmed(f"{replies[1]} of {wait} replicas confirmed")
            return replies[0]

        return await self.run(name, op)

    async def command(self, name: str, *command: Any) -> Any:
        """One command that changes nothing (a read), under the retry policy, sent the
        way ``confirmed_eval`` sends its step: the reply as redis-py's parser gives it
        (no response callback: ``HMGET`` is a list, ``GET`` a string or None)."""
        async def op(redis: Redis) -> Any:
            replies = await _pooled(redis, command, ())
            if isinstance(replies[0], ResponseError):
                raise replies[0]
            return replies[0]

        return await self.run(name, op)


_SHAS: dict[str, str] = {}


def _sha1(script: str) -> str:
    """The script's SHA1 as Redis names it (worked out once per script)."""
    sha = _SHAS.get(script)
    if sha is None:
        sha = _SHAS[script] = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    return sha


async def _pooled(redis: Redis, command: tuple[Any, ...], confirm: tuple[Any, ...],
                  unknown_script: tuple[Any, ...] = ()) -> list[Any]:
    """``_exchange`` on a pooled connection, back in the pool afterwards; closed first
    if anything went wrong on it (cancelled, timed out, cut): a reply may still be on
    its way, and must never reach the next caller. ``unknown_script`` is sent instead
    when the primary answers NOSCRIPT (``EVAL`` for an ``EVALSHA``). Plain try/finally,
    not a context manager: a generator's two steps cost each call ~3 µs."""
    pool = redis.connection_pool
    conn = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        replies = await _exchange(conn, command, confirm)
        if unknown_script and isinstance(replies[0], NoScriptError):
            replies = await _exchange(conn, unknown_script, confirm)
        return replies
    except BaseException:
        await conn.disconnect()
        raise
    finally:
        await pool.release(conn)


async def _exchange(conn: Any, command: tuple[Any, ...], confirm: tuple[Any, ...]) -> list[Any]:
    """Send ``command`` (and ``confirm``, a WAIT) in one write, packed by hiredis (a
    seventh of redis-py's time for a script step); every reply read, an error reply as
    its exception, so the connection is left with nothing unread."""
    commands = [command, confirm] if confirm else [command]
    await conn.send_packed_command(b"".join(map(hiredis.pack_command, commands)),
                                   check_health=False)
    replies: list[Any] = []
    for _ in commands:
        try:
            replies.append(await conn.read_response())
        except ResponseError as exc:  # READONLY and the like are ConnectionErrors: raised
            replies.append(exc)
    return replies

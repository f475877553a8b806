"""TLS to Redis (for deployments across machines): the node's store speaks TLS to a real
redis-server that listens only on its TLS port, verifies the server against the
configured CA, and authenticates as its ACL user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ha import pki, procs, redis_auth
from service.settings import RedisSettings
from service.store import StoreUnavailable
from service.store.client import StoreClient, connect

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Path]]:
    folder = tmp_path_factory.mktemp("redis-tls")
    ca = pki.make_ca(folder / "pki")
    server = pki.issue(ca, folder / "pki", "redis", cn="127.0.0.1")
    auth = redis_auth.create(folder / "secrets")
    port = procs.free_port()
    binary = procs.require_binary("redis-server", "redis-server")
    tls = ["--tls-port", str(port), "--tls-cert-file", str(server.cert),
           "--tls-key-file", str(server.key), "--tls-ca-cert-file", str(ca.cert),
           "--tls-auth-clients", "no"]
    argv = [*procs.redis_argv(binary, 0, folder / "data", aof=False, auth=auth), *tls]
    p = procs.spawn("redis-tls", argv, log=folder / "redis.log", port=port)
    try:
        procs.wait_port(port, proc=p)
        yield port, ca.cert, auth.secret_file("idportal")
    finally:
        procs.stop(p)


async def test_the_store_speaks_tls_to_redis_and_verifies_it(
        tls_redis: tuple[int, Path, Path]) -> None:
    port, ca, password_file = tls_redis
    cfg = RedisSettings(url=f"redis://127.0.0.1:{port}/0", tls=True, tls_ca_file=str(ca),
                        username="idportal", password_file=str(password_file), wait_replicas=0)
    store = StoreClient(connect(cfg), cfg)
    try:
        await store.run("set", lambda r: r.set("idp:tls-test", "ok", ex=5))
        assert await store.run("get", lambda r: r.get("idp:tls-test")) == "ok"
    finally:
        await store.close()


async def test_a_redis_the_ca_does_not_vouch_for_is_refused(
        tls_redis: tuple[int, Path, Path], tmp_path: Path) -> None:
    port, _, password_file = tls_redis
    other = pki.make_ca(tmp_path / "other")
    cfg = RedisSettings(url=f"redis://127.0.0.1:{port}/0", tls=True,
                        tls_ca_file=str(other.cert), username="idportal",
                        password_file=str(password_file), wait_replicas=0, retry_budget_s=0.5)
    store = StoreClient(connect(cfg), cfg)
    try:
        with pytest.raises(StoreUnavailable):
            await store.run("get", lambda r: r.get("idp:tls-test"))
    finally:
        await store.close()

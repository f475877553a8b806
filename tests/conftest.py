"""Shared fixtures: a real redis-server, keys, settings, and the app wired to the
BankID simulator in-process (integration tests), all on loopback."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from ha import procs
from service import pin_admin
from service.app import create_app
from service.oidc import clients as clientsmod
from service.oidc import keyring
from service.providers import pin_register
from service.providers.bankid_client import BankIDClient
from service.providers.freja_client import FrejaClient
from service.providers.pin_hashes import PinHasher, hasher
from service.providers.representation import Representations
from service.records import RegisterEntry
from service.settings import Settings, load_settings
from service.state import Node, SigningKeys
from service.store import open_store
from tests.helpers.redis_procs import single_redis

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
ISSUER = "https://idp.test"
PNR = "198112189876"  # REFERENCE.md test vector; not in the PIN register
PIN_CITIZEN = "194001011008"  # first citizen of the seeded register, PIN 1234


@pytest.fixture(scope="session")
def redis_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with single_redis(tmp_path_factory.mktemp("redis")) as p:
        yield p


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The BankID simulator as a real process (plain http on loopback): its base URL."""
    folder = tmp_path_factory.mktemp("sim")
    port = procs.free_port()
    p = procs.spawn("bankid-simulator", [procs.python(), "-m", "simulators.bankid", "--bind",
                                         f"127.0.0.1:{port}"], log=folder / "sim.log", port=port,
                    cwd=ROOT)
    try:
        procs.wait_port(port, proc=p, timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        procs.stop(p)


@pytest.fixture(scope="session")
def freja_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The Freja eID simulator as a real process (plain http on loopback): its base URL
    and its result-signing certificate."""
    folder = tmp_path_factory.mktemp("freja")
    port = procs.free_port()
    cert = folder / "jws.pem"
    p = procs.spawn("freja-simulator", [procs.python(), "-m", "simulators.freja", "--bind",
                                        f"127.0.0.1:{port}", "--jws-cert-out", str(cert)],
                    log=folder / "freja.log", port=port, cwd=ROOT)
    try:
        procs.wait_port(port, proc=p, timeout=20)
        yield f"http://127.0.0.1:{port}", cert
    finally:
        procs.stop(p)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The whole HA cluster on free loopback ports, shared by the HA and load tests.
    Its teardown checks that ``down`` leaves nothing running."""
    from ha import cluster as clustermod

    run_dir = tmp_path_factory.mktemp("cluster")
    started = None
    try:
        # Supervision is tried by tests/ha/test_supervision.py; the other tests kill and
        # restart processes themselves.
        started = clustermod.up(run_dir, clustermod.Layout.free(3, demos=True), monitoring=True,
                                supervise=False)
        yield started
    finally:
        members = list(clustermod.Cluster.load(run_dir).members) if clustermod.Cluster.load(
            run_dir) else []
        clustermod.down(run_dir)
        assert not any(m.proc().alive() for m in members), "cluster down left processes"
        assert clustermod.Cluster.load(run_dir) is None


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    keyring.generate(folder)
    return folder


def make_settings(keys_dir: Path, redis_url: str = "", sim: str = "http://127.0.0.1:9",
                  **env: str) -> Settings:
    base = {
        "IDPORTAL_ISSUER": ISSUER,
        "IDPORTAL_KEYS_DIR": str(keys_dir),
        "IDPORTAL_CLIENTS_FILE": str(DATA / "clients.toml"),
        "IDPORTAL_REPRESENTATION_FILE": str(DATA / "representation.toml"),
        "IDPORTAL_PIN__REGISTER_FILE": str(ROOT / "config" / "pin-register.toml"),
        "IDPORTAL_REDIS__URL": redis_url,
        "IDPORTAL_REDIS__WAIT_REPLICAS": "0",
        "IDPORTAL_REDIS__RETRY_BUDGET_S": "2",
        "IDPORTAL_BANKID__BASE_URL": f"{sim}/rp/v6.0",
        "IDPORTAL_LOG_FORMAT": "json",
    }
    base.update({f"IDPORTAL_{k.upper()}": v for k, v in env.items()})
    return load_settings(environ=base)


@dataclasses.dataclass
class World:
    settings: Settings
    node: Node
    browser: httpx.AsyncClient  # the citizen's browser (cookies)
    http: httpx.AsyncClient  # an e-service back end (no cookies kept)
    phone: httpx.AsyncClient  # the BankID app (simulator phone API)
    redis: redis.Redis
    backchannel: list[tuple[str, str]]

    def new_browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.browser._transport, base_url=ISSUER)


def build_world(settings: Settings, backchannel: list[tuple[str, str]]) -> Node:
    def rp_backend(request: httpx.Request) -> httpx.Response:
        backchannel.append((str(request.url), request.content.decode()))
        return httpx.Response(200)

    return Node(
        settings=settings,
        store=open_store(settings),
        registry=clientsmod.load(settings.clients_file).with_self_service(settings.issuer),
        keys=_keys(settings),
        bankid=BankIDClient(settings.bankid),
        pins=PinHasher(hasher(settings.pin)),
        pin_seed=list(_register(settings.pin.register_file)),
        http=httpx.AsyncClient(transport=httpx.MockTransport(rp_backend)),
        representations=Representations(Path(settings.representation_file)),
        freja=FrejaClient(settings.freja) if settings.freja.base_url else None,
        last_store_ok=float("inf"),
    )


@functools.cache
def _register(path: str) -> tuple[RegisterEntry, ...]:
    return tuple(pin_register.read(path))


def _keys(settings: Settings) -> SigningKeys:
    k = SigningKeys(Path(settings.keys_dir), publish_for=900)
    k.reload_if_changed()
    return k


@pytest.fixture
async def world(redis_proc: Any, keys_dir: Path, simulator: str,
                freja_simulator: tuple[str, Path],
                request: pytest.FixtureRequest) -> AsyncIterator[World]:
    overrides = {"freja__base_url": freja_simulator[0],
                 "freja__jws_cert_file": str(freja_simulator[1]),
                 **(getattr(request, "param", {}) or {})}
    settings = make_settings(keys_dir, f"redis://127.0.0.1:{redis_proc.port}/0", simulator,
                             **overrides)
    r = redis.Redis(port=redis_proc.port, decode_responses=True)
    r.flushall()
    async with httpx.AsyncClient() as c:
        await c.post(simulator + "/control/reset", json={})
        await c.post(freja_simulator[0] + "/control/reset", json={})
    backchannel: list[tuple[str, str]] = []
    node = build_world(settings, backchannel)
    await pin_admin.import_at_start(node)
    app = create_app(settings, node=node)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as browser, \
            httpx.AsyncClient(transport=transport, base_url=ISSUER) as http, \
            httpx.AsyncClient(base_url=simulator) as phone:
        yield World(settings, node, browser, http, phone, r, backchannel)
    await node.store.close()
    await node.bankid.close()
    if node.freja is not None:
        await node.freja.close()
    await node.http.aclose()
    r.close()

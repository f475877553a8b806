"""End to end over real processes: redis-server, the BankID simulator behind mutual TLS,
an auth node with TLS, and a demo e-service using a standard OIDC client library. The
whole code flow: authorize, BankID via the phone API, token, userinfo, refresh, logout;
and a node's drain on SIGTERM. Everything that touches the node runs under each of its
servers (``idportal serve --server hypercorn|uvicorn``)."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import ssl
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import redis

from ha import procs, stack
from service.store import keys
from tests.conftest import DATA, PIN_CITIZEN, PNR
from tests.helpers import citizen, tls

pytestmark = pytest.mark.e2e


@dataclass
class Stack:
    issuer: str
    phone: str
    ca: str
    demo: str
    material: stack.Material
    sim_port: int
    settings: Path
    server: str
    redis_port: int
    node_pid: int


@pytest.fixture(scope="module", params=["hypercorn", "uvicorn"])
def running(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    server: str = request.param
    run_dir = tmp_path_factory.mktemp(f"stack-{server}")
    redis_port, sim_port, phone_port, node_port, demo_port = procs.free_ports(5)
    started: list[procs.Proc] = []
    try:
        m = stack.prepare(run_dir)
        procs.start_redis("redis", redis_port, run_dir / "r", log=run_dir / "redis.log",
                          started=started)
        started.append(sim := stack.start_simulator(m, sim_port, phone_port))
        issuer = f"https://127.0.0.1:{node_port}"
        clients = run_dir / "clients.toml"
        clients.write_text((DATA / "clients.toml").read_text().replace(
            'https://rp.test/cb"', f'https://127.0.0.1:{demo_port}/callback"').replace(
            "https://rp.test/", f"https://127.0.0.1:{demo_port}/").replace(
            "rp-jwt-jwks.json", str(DATA / "rp-jwt-jwks.json")))
        settings = stack.write_settings(m, issuer=issuer, redis_url=f"redis://127.0.0.1:{redis_port}/0",
                                        bankid_port=sim_port, clients_file=clients)
        started.append(node := stack.start_node(m, settings, node_port, name="node-e2e", server=server))
        stack.wait_http(f"{issuer}/readyz", stack.ssl_context(m), proc=node)
        procs.wait_port(phone_port, proc=sim)
        demo = procs.spawn("demo", [procs.python(), "-m", "demo.portal", "--client-id", "rp-basic",
                                    "--issuer", issuer, "--port", str(demo_port), "--ca", str(m.ca.cert),
                                    "--certfile", str(m.server.cert), "--keyfile", str(m.server.key),
                                    "--secret", "rp-basic-secret"],
                           log=run_dir / "demo.log", port=demo_port, cwd=stack.REPO)
        started.append(demo)
        procs.wait_port(demo_port, proc=demo)
        yield Stack(issuer, f"http://127.0.0.1:{phone_port}", str(m.ca.cert),
                    f"https://127.0.0.1:{demo_port}", m, sim_port, settings, server, redis_port, node.pid)
    finally:
        for p in reversed(started):
            procs.stop(p)


async def test_whole_code_flow_over_real_processes(running: Stack) -> None:
    tls = ssl.create_default_context(cafile=running.ca)
    async with httpx.AsyncClient(base_url=running.issuer, verify=tls) as browser, \
            httpx.AsyncClient(base_url=running.issuer, verify=tls) as rp, \
            httpx.AsyncClient(base_url=running.phone) as phone:
        resp, flow = await citizen.start(browser, "rp-basic",
                                         redirect_uri=running.demo + "/callback",
                                         scope="openid profile https://id.oidc.se/scope/naturalPersonNumber")
        final = await citizen.bankid_login(browser, phone, citizen.login_url(resp), PNR, device="other")
        assert final.status_code == 303, final.text
        q = citizen.query_of(final.headers["location"])
        assert q["iss"] == running.issuer
        tokens = await citizen.redeem(rp, flow, q["code"])
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        claims = citizen.decode(body["id_token"], await citizen.jwks(rp))
        assert claims["https://id.oidc.se/claim/personalIdentityNumber"] == PNR
        ui = await rp.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
        assert ui.status_code == 200 and ui.json()["sub"] == claims["sub"]
        refreshed = await rp.post("/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": body["refresh_token"]},
                                  headers=citizen.basic("rp-basic"))
        assert refreshed.status_code == 200
        out = await browser.get("/end_session?" + urlencode({
            "id_token_hint": body["id_token"],
            "post_logout_redirect_uri": running.demo + "/bye"}))
        assert out.status_code == 303
        ui = await rp.get("/userinfo", headers={
            "Authorization": "Bearer " + refreshed.json()["access_token"]})
        assert ui.status_code == 401
        assert "x-request-id" in out.headers


async def test_responses_do_not_name_the_server_software(running: Stack) -> None:
    tls = ssl.create_default_context(cafile=running.ca)
    async with httpx.AsyncClient(base_url=running.issuer, verify=tls) as client:
        for path in ("/.well-known/openid-configuration", "/no-such-page", "/authorize"):
            r = await client.get(path)
            assert "server" not in r.headers, (path, r.headers.get("server"))
            assert "x-request-id" in r.headers


async def test_the_server_does_not_take_the_client_address_from_a_forwarded_header(
        running: Stack) -> None:
    # The node trusts no proxy here: a citizen's own X-Forwarded-For must not move its
    # PIN failures to another address (which would dodge the per-address lockout).
    # Uvicorn would rewrite the client from it by default for peers on 127.0.0.1.
    tls = ssl.create_default_context(cafile=running.ca)
    store = redis.Redis(port=running.redis_port)
    forged = "203.0.113.9"
    try:
        async with httpx.AsyncClient(base_url=running.issuer, verify=tls) as browser:
            resp, _ = await citizen.start(browser, "rp-basic", redirect_uri=running.demo + "/callback")
            browser.headers["X-Forwarded-For"] = forged
            page = await citizen.pin_login(browser, citizen.login_url(resp), PIN_CITIZEN, "0000")
            assert page.status_code == 401  # wrong PIN: the form again, with the error
        assert store.exists(keys.pin_failures_ip("127.0.0.1"))
        assert not store.exists(keys.pin_failures_ip(forged))
    finally:
        # The other tests of the stack log in from the same address: clear the misses.
        for pattern in (keys.pin_failures_ip("*"), keys.pin_failures_person_ip("*", "*"),
                        keys.pin_failures_person("*")):
            for key in store.scan_iter(pattern):
                store.delete(key)
        store.close()


def _raw_exchange(stack_: Stack, pieces: list[bytes]) -> bytes:
    """Send a request head in pieces over TLS, straight to the node; the status line."""
    host, port = stack_.issuer.removeprefix("https://").split(":")
    tls = ssl.create_default_context(cafile=stack_.ca)
    with socket.create_connection((host, int(port)), timeout=5) as raw, \
            tls.wrap_socket(raw, server_hostname=host) as conn:
        try:
            for piece in pieces:
                conn.sendall(piece)
        except OSError:
            pass  # the node may close before the rest is sent; its answer is read below
        got = b""
        while b"\r\n" not in got:
            chunk = conn.recv(4096)
            if not chunk:
                break
            got += chunk
        return got.split(b"\r\n", 1)[0]


def test_clients_that_hang_up_early_do_not_kill_the_node(running: Stack) -> None:
    # Writing to a connection the client has closed must be an error the server
    # handles, never a SIGPIPE: `idportal` once restored SIGPIPE's default for its
    # pipe-friendly commands, and a node that inherited it died on the first early
    # hang-up (found when the e2e tests first ran a node under Uvicorn).
    host, port = running.issuer.removeprefix("https://").split(":")
    tls = ssl.create_default_context(cafile=running.ca)
    for _ in range(20):
        with socket.create_connection((host, int(port)), timeout=5) as raw, \
                tls.wrap_socket(raw, server_hostname=host) as conn:
            conn.sendall(b"GET /jwks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    for _ in range(20):
        with urllib.request.urlopen(running.issuer + "/healthz", context=tls, timeout=5) as r:  # noqa: S310
            assert r.status == 200
    assert _raw_exchange(running, [b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"]).startswith(
        b"HTTP/1.1 200")
    status = Path(f"/proc/{running.node_pid}/status").read_text()
    ignored = int(next(x for x in status.splitlines() if x.startswith("SigIgn:")).split()[1], 16)
    assert ignored & (1 << (signal.SIGPIPE - 1)), "the node must ignore SIGPIPE"


@pytest.mark.parametrize("how", ["one header of 100 KB", "a head that keeps coming"])
def test_an_oversized_request_head_gets_431_and_the_node_serves_on(running: Stack, how: str) -> None:
    # Hypercorn's h11 stops at 16 KiB; Uvicorn's httptools has no limit of its own, so
    # the node adds one (service/uvicorn_protocol.py BoundedHttpTools). Behind HAProxy its buffer
    # (16 KiB) is a second limit; a node reached directly must hold its own.
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if how == "one header of 100 KB":
        pieces = [head + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n"]
    else:
        pieces = [head] + [b"X-Pad-%d: %s\r\n" % (i, b"b" * 4000) for i in range(16)]
    assert _raw_exchange(running, pieces).startswith(b"HTTP/1.1 431")
    ok = _raw_exchange(running, [head + b"X-Fine: " + b"c" * 8000 + b"\r\n\r\n"])
    assert ok.startswith(b"HTTP/1.1 200")


async def test_demo_eservice_logs_in_with_a_standard_oidc_library(running: Stack) -> None:
    tls = ssl.create_default_context(cafile=running.ca)
    async with httpx.AsyncClient(verify=tls, follow_redirects=False) as browser, \
            httpx.AsyncClient(base_url=running.phone) as phone:
        r = await browser.get(running.demo + "/login")
        assert r.status_code == 302
        page = await browser.get(r.headers["location"])  # idportal /authorize: the method page
        base = running.issuer + citizen.login_url(page)
        page = await browser.post(base + "/bankid/start", data={"csrf": citizen.csrf_of(page.text),
                                                                "device": "same"})
        assert page.status_code == 200
        token = re.search(r"autostarttoken=([^&\"]+)", page.text)
        assert token
        await phone.post("/phone/open", json={"autoStartToken": token.group(1), "personalNumber": PNR})
        r = await browser.post(base + "/bankid/collect", data={"csrf": citizen.csrf_of(page.text)})
        assert r.status_code == 303  # without JavaScript: straight on to the e-service
        r = await browser.get(r.headers["location"])  # demo /callback: Authlib validates it all
        assert r.status_code == 303, r.text
        home = await browser.get(running.demo + "/")
        assert "Välkommen" in home.text and PNR in home.text


def test_bankid_rp_api_refuses_a_client_without_certificate(running: Stack) -> None:
    ctx = ssl.create_default_context(cafile=running.ca)
    with httpx.Client(verify=ctx) as c, pytest.raises(httpx.HTTPError):
        c.post(f"https://127.0.0.1:{running.sim_port}/rp/v6.0/auth", json={"endUserIp": "127.0.0.1"})
    ctx.load_cert_chain(str(running.material.rp_client.cert), str(running.material.rp_client.key))
    with httpx.Client(verify=ctx) as c:
        r = c.post(f"https://127.0.0.1:{running.sim_port}/rp/v6.0/auth", json={"endUserIp": "127.0.0.1"})
        assert r.status_code == 200 and "qrStartSecret" in r.json()


def test_phone_listener_refuses_the_rp_api(running: Stack) -> None:
    r = httpx.post(running.phone + "/rp/v6.0/auth", json={"endUserIp": "127.0.0.1"})
    assert r.status_code == 401



async def test_sigterm_drains_then_finishes_the_request_in_flight_and_exits_cleanly(
        running: Stack) -> None:
    # A second node on the same store and simulator, stopped while a slow BankID start
    # is in flight: it reports not-ready at once (the load balancer takes it out), keeps
    # serving through the drain, then stops accepting, lets the request finish and exits 0.
    port = procs.free_port()
    node = stack.start_node(running.material, running.settings, port, name=f"node-drain-{running.server}",
                            drain_s=1.0, server=running.server)
    base = f"https://127.0.0.1:{port}"
    tls = ssl.create_default_context(cafile=running.ca)
    try:
        stack.wait_http(f"{base}/readyz", tls, proc=node)
        async with httpx.AsyncClient(base_url=base, verify=tls, timeout=20) as browser, \
                httpx.AsyncClient(base_url=base, verify=tls, timeout=5) as probe, \
                httpx.AsyncClient(base_url=running.phone) as phone:
            resp, _ = await citizen.start(browser, "rp-basic", redirect_uri=running.demo + "/callback")
            login = citizen.login_url(resp)
            page = await browser.get(login)
            await phone.post("/control/mode", json={"mode": "slow", "delayMs": 2500})
            try:
                in_flight = asyncio.create_task(browser.post(
                    login + "/bankid/start", data={"csrf": citizen.csrf_of(page.text), "device": "same"}))
                await asyncio.sleep(0.5)
                signalled = time.monotonic()
                procs.signal_pid(node.pid, signal.SIGTERM)
                await asyncio.sleep(0.2)
                assert (await probe.get("/readyz")).status_code == 503
                assert (await probe.get("/healthz")).status_code == 200
                finished = await in_flight
                assert finished.status_code == 200 and "autostarttoken" in finished.text
                assert time.monotonic() - signalled > 1.0  # it outlived the drain
            finally:
                await phone.post("/control/mode", json={"mode": "normal"})
        assert node.popen is not None
        assert await asyncio.to_thread(node.popen.wait, 15) == 0
        async with httpx.AsyncClient(verify=tls, timeout=2) as late:
            with pytest.raises(httpx.ConnectError):
                await late.get(f"{base}/healthz")
    finally:
        procs.stop(node)


@pytest.mark.parametrize("suite", ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384",
                                   "AES128-SHA"])
def test_a_nodes_own_tls_refuses_cbc_and_sha1_suites(running: Stack, suite: str) -> None:
    # Mozilla "intermediate" (service/tls.py) also where a node speaks TLS itself (dev).
    port = int(running.issuer.rsplit(":", 1)[1])
    assert not tls.handshake(port, running.ca, suites=suite)
    assert tls.handshake(port, running.ca, suites="ECDHE-ECDSA-AES128-GCM-SHA256")

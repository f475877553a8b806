"""End to end over real processes: redis-server, the BankID simulator behind mutual TLS,
an auth node under Hypercorn with TLS, and a demo e-service using a standard OIDC client
library. The whole code flow: authorize, BankID via the phone API, token, userinfo,
refresh, logout."""

from __future__ import annotations

import re
import signal
import socket
import ssl
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from ha import procs, stack
from tests.conftest import DATA, PNR
from tests.helpers import citizen

pytestmark = pytest.mark.e2e


@dataclass
class Stack:
    issuer: str
    phone: str
    ca: str
    demo: str
    material: stack.Material
    sim_port: int
    node_pid: int


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir = tmp_path_factory.mktemp("stack")
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
        started.append(node := stack.start_node(m, settings, node_port, name="node-e2e"))
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
                    f"https://127.0.0.1:{demo_port}", m, sim_port, node.pid)
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


def test_clients_that_hang_up_early_do_not_kill_the_node(running: Stack) -> None:
    # Writing to a connection the client has closed must be an error the server
    # handles, never a SIGPIPE: `idportal` restores SIGPIPE's default for its
    # pipe-friendly commands, and a node that inherited it died on an early hang-up.
    host, port = running.issuer.removeprefix("https://").split(":")
    tls = ssl.create_default_context(cafile=running.ca)
    for _ in range(20):
        with socket.create_connection((host, int(port)), timeout=5) as raw, \
                tls.wrap_socket(raw, server_hostname=host) as conn:
            conn.sendall(b"GET /jwks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    for _ in range(20):
        with urllib.request.urlopen(running.issuer + "/healthz", context=tls, timeout=5) as r:  # noqa: S310
            assert r.status == 200
    status = Path(f"/proc/{running.node_pid}/status").read_text()
    ignored = int(next(x for x in status.splitlines() if x.startswith("SigIgn:")).split()[1], 16)
    assert ignored & (1 << (signal.SIGPIPE - 1)), "the node must ignore SIGPIPE"


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


"""The edge, tried as an attacker would: through the running cluster (HAProxy with TLS,
three nodes, Redis with Sentinel and ACLs, the demo e-services), never only in-process.
One test per hole of the outside review (SECURITY.md, "The edge")."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import signal
import socket
import ssl
import time
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from ha import cluster as clustermod
from ha import procs, stack
from service import loa
from service.oidc import extensions
from service.oidc.claims import PNR as PNR_CLAIM
from tests.helpers import citizen, crashing_node
from tests.helpers.tls import handshake

pytestmark = pytest.mark.ha

BANKID_PNR = "198112189876"
SECRET = stack.DEMO_SECRET
REGISTER = tomllib.loads((stack.REPO / "config" / "pin-register.toml").read_text())["citizen"]


def register_citizen(i: int) -> str:
    """A citizen of the seeded PIN register (PIN 1234) that no other test uses."""
    return str(REGISTER[100 + i]["personal_number"])


@pytest.fixture(scope="module")
def info(cluster: clustermod.Cluster) -> dict[str, Any]:
    return clustermod.describe(cluster)


def tls(info: dict[str, Any]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=info["ca_file"])


@contextlib.asynccontextmanager
async def browser(info: dict[str, Any], *, source: str = "") -> AsyncIterator[httpx.AsyncClient]:
    """A citizen's browser talking to the front door (from ``source``, a loopback address
    of its own, when the test needs addresses apart)."""
    transport = httpx.AsyncHTTPTransport(verify=tls(info), local_address=source or None)
    async with httpx.AsyncClient(base_url=info["issuer"], transport=transport,
                                 timeout=20) as b:
        yield b


def redirect_uri(info: dict[str, Any], client_id: str) -> str:
    return info["demos"][client_id] + "/callback"


async def new_login(b: httpx.AsyncClient, info: dict[str, Any]) -> str:
    """A login at Mina sidor, started: its transaction id."""
    resp, _ = await citizen.start(b, "mina-sidor", redirect_uri=redirect_uri(info, "mina-sidor"))
    return citizen.login_url(resp).rsplit("/", 1)[1]


async def pin_form(b: httpx.AsyncClient, tx: str, pnr: str, pin: str) -> dict[str, str]:
    """The PIN form of login ``tx``, filled in (its CSRF token read off the page)."""
    page = await b.get(f"/login/{tx}/pin")
    return {"csrf": citizen.csrf_of(page.text), "personal_number": pnr, "pin": pin}


async def post_pin(b: httpx.AsyncClient, tx: str, pnr: str, pin: str, *,
                   forwarded_for: str) -> httpx.Response:
    """One PIN attempt carrying a client-written X-Forwarded-For."""
    return await b.post(f"/login/{tx}/pin", data=await pin_form(b, tx, pnr, pin),
                        headers={"X-Forwarded-For": forwarded_for})


async def pin_code(b: httpx.AsyncClient, info: dict[str, Any], pnr: str,
                   **kw: str) -> tuple[citizen.Flow, str]:
    resp, flow = await citizen.start(b, "mina-sidor", redirect_uri=redirect_uri(info, "mina-sidor"),
                                     **kw)
    final = await citizen.pin_login(b, citizen.login_url(resp), pnr, "1234")
    assert final.status_code == 303, final.text[:300]
    return flow, citizen.query_of(final.headers["location"])["code"]


async def redeem(b: httpx.AsyncClient, flow: citizen.Flow, code: str) -> dict[str, Any]:
    r = await b.post("/token", data={"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": flow.redirect_uri,
                                     "code_verifier": flow.verifier},
                     headers=citizen.basic("mina-sidor", SECRET))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def metric(info: dict[str, Any], name: str) -> float:
    """A counter summed over every node, read from their internal listeners."""
    total = 0.0
    async with httpx.AsyncClient(timeout=5) as http:
        for n in info["nodes"]:
            for line in (await http.get(n["metrics_url"])).text.splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    total += float(line.rsplit(" ", 1)[1])
    return total


def clear_pin_counters(cluster: clustermod.Cluster) -> None:
    r = cluster.redis_client(cluster.primary_port() or cluster.layout.redis[0])
    try:
        for key in r.scan_iter("idp:pinfail:*"):
            r.delete(key)
    finally:
        r.close()


# --- 1. Forged client addresses ----------------------------------------------------

async def test_a_forged_forwarded_for_cannot_move_pin_misses_to_a_fresh_address(
        cluster: clustermod.Cluster, info: dict[str, Any]) -> None:
    pnr = register_citizen(0)
    try:
        async with browser(info) as b:
            tx = await new_login(b, info)
            for _ in range(6):
                r = await post_pin(b, tx, pnr, "0000", forwarded_for="203.0.113.7")
                assert r.status_code in (401, 429)
            right = await post_pin(b, tx, pnr, "1234",
                                   forwarded_for="198.51.100.9, 198.51.100.10")
            assert right.status_code == 429, right.status_code
    finally:
        clear_pin_counters(cluster)


async def test_a_client_chosen_request_id_never_becomes_the_support_reference(
        info: dict[str, Any]) -> None:
    async with browser(info) as b:
        r = await b.get("/authorize?client_id=nobody", headers={"X-Request-ID": "mine-12345678"})
    assert r.status_code == 400
    ref = r.headers["x-request-id"]
    assert ref != "mine-12345678" and "mine-12345678" not in r.text
    assert re.fullmatch(r"[0-9a-f-]{36}", ref) and ref in r.text


# --- 2. Parallel PIN guesses ----------------------------------------------------------

async def test_twenty_parallel_wrong_pins_get_at_most_five_verifications(
        cluster: clustermod.Cluster, info: dict[str, Any]) -> None:
    pnr = register_citizen(1)
    try:
        async with browser(info) as b:
            tx = await new_login(b, info)
            form = await pin_form(b, tx, pnr, "0000")
            before = await metric(info, "idportal_pin_verifications_total")
            answers = await asyncio.gather(*(b.post(f"/login/{tx}/pin", data=form)
                                             for _ in range(20)))
            after = await metric(info, "idportal_pin_verifications_total")
        assert after - before <= 5, after - before
        codes = sorted(r.status_code for r in answers)
        assert codes.count(401) <= 5 and set(codes) <= {401, 429}
        locked = next(r for r in answers if r.status_code == 429)
        assert "BankID" in locked.text and int(locked.headers["retry-after"]) > 0
    finally:
        clear_pin_counters(cluster)


# --- 3. Logout with somebody else's token ---------------------------------------------

async def test_logout_with_another_citizens_id_token_asks_first_and_ends_nothing(
        info: dict[str, Any]) -> None:
    async with browser(info) as victim, browser(info) as stranger:
        await pin_code(victim, info, register_citizen(2))
        flow, code = await pin_code(stranger, info, register_citizen(3))
        strangers_token = (await redeem(stranger, flow, code))["id_token"]
        r = await victim.get("/end_session?" + urlencode({
            "id_token_hint": strangers_token,
            "post_logout_redirect_uri": info["demos"]["mina-sidor"] + "/"}))
        assert r.status_code == 200 and 'action="/end_session"' in r.text
        # The victim is still logged in: SSO gives a code without a login page.
        resp, _ = await citizen.start(victim, "mina-sidor", prompt="none",
                                      redirect_uri=redirect_uri(info, "mina-sidor"))
        assert resp.status_code == 303 and "code=" in resp.headers["location"]


# --- 4. Back-channel logout ----------------------------------------------------------

async def demo_login(b: httpx.AsyncClient, phone: httpx.AsyncClient, demo: str) -> None:
    """Log in at a demo e-service the way a citizen's browser does."""
    r = await b.get(demo + "/login")
    assert r.status_code in (302, 303), r.text[:200]
    authorize = await b.get(r.headers["location"])
    if citizen.shows_login(authorize):
        final = await citizen.bankid_login(b, phone, citizen.login_url(authorize), BANKID_PNR)
    else:
        final = authorize  # SSO: straight back with a code
    assert final.status_code == 303, final.text[:300]
    back = await b.get(final.headers["location"])
    assert back.status_code == 303, back.text[:300]
    assert "Välkommen" in (await b.get(demo + "/")).text


async def demo_logout(b: httpx.AsyncClient, demo: str) -> httpx.Response:
    r = await b.get(demo + "/logout")
    assert r.status_code in (302, 303)
    out = await b.get(r.headers["location"])
    assert out.status_code == 303, out.text[:300]
    return out


async def forgets(b: httpx.AsyncClient, demo: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if "inte inloggad" in (await b.get(demo + "/")).text:
            return True
        await asyncio.sleep(0.25)
    return False


async def test_logout_at_one_e_service_ends_the_citizens_session_at_both(
        info: dict[str, Any]) -> None:
    mina, bygglov = info["demos"]["mina-sidor"], info["demos"]["bygglov"]
    async with browser(info) as b, httpx.AsyncClient(base_url=info["phone_url"]) as phone:
        await demo_login(b, phone, mina)
        await demo_login(b, phone, bygglov)
        # Bygglov is registered for signed userinfo; the demo checked the JWT.
        assert "signed JWT (RS256)" in (await b.get(bygglov + "/")).text
        await demo_logout(b, mina)
        assert await forgets(b, mina, 1)
        assert await forgets(b, bygglov, 10)


def shown_sub(page: str) -> str:
    m = re.search(r"<th>sub</th><td>([^<]+)</td>", page)
    assert m, page[:300]
    return m.group(1)


async def test_e_services_of_two_sectors_see_the_citizen_under_two_subjects(
        info: dict[str, Any]) -> None:
    # Mina sidor and Bygglov are in different sectors (config/clients.toml): each sees a
    # sub of its own, the same at every login on any node; neither sees the other's.
    mina, bygglov = info["demos"]["mina-sidor"], info["demos"]["bygglov"]
    subs: dict[str, list[str]] = {mina: [], bygglov: []}
    for _ in range(2):
        async with browser(info) as b, httpx.AsyncClient(base_url=info["phone_url"]) as phone:
            for demo in (mina, bygglov):
                await demo_login(b, phone, demo)
                subs[demo].append(shown_sub((await b.get(demo + "/")).text))
    assert subs[mina][0] == subs[mina][1] and subs[bygglov][0] == subs[bygglov][1]
    assert subs[mina][0] != subs[bygglov][0]
    assert BANKID_PNR not in subs[mina][0] + subs[bygglov][0]


async def test_a_citizen_signs_a_building_permit_application_at_bygglov(
        info: dict[str, Any]) -> None:
    # Through the real cluster: Bygglov asks to sign (a signed request object with the
    # signRequest), the citizen signs with BankID, Bygglov verifies the XML signature.
    bygglov = info["demos"]["bygglov"]
    async with browser(info) as b, httpx.AsyncClient(base_url=info["phone_url"]) as phone:
        await demo_login(b, phone, bygglov)
        asked = await b.get(bygglov + "/sign")
        assert asked.status_code in (302, 303), asked.text[:200]
        page = await b.get(asked.headers["location"])
        # Bygglov names the citizen: the text is for the BankID app only.
        assert citizen.shows_login(page) and "Jag ansöker om bygglov" not in page.text
        final = await citizen.bankid_login(b, phone, citizen.login_url(page), BANKID_PNR)
        assert final.status_code == 303, final.text[:300]
        back = await b.get(final.headers["location"])
        assert back.status_code == 303, back.text[:300]
        home = (await b.get(bygglov + "/")).text
        assert "Signerad ansökan" in home and "Signaturen är giltig" in home, home[-600:]


def node_that_served(cluster: clustermod.Cluster, path: str) -> str:
    log = Path(cluster.member("haproxy").log)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [ln for ln in log.read_text().splitlines() if f" {path} " in ln]
        if found:
            m = re.search(r" nodes/(node-\d+) ", found[-1])
            assert m, found[-1]
            return m.group(1)
        time.sleep(0.05)
    raise AssertionError(f"HAProxy logged no {path}")


async def test_a_logout_survives_the_death_of_the_node_that_took_it(
        cluster: clustermod.Cluster, info: dict[str, Any]) -> None:
    mina, bygglov = info["demos"]["mina-sidor"], info["demos"]["bygglov"]
    demo = cluster.member("demo-mina-sidor")
    killed = ""
    async with browser(info) as b, httpx.AsyncClient(base_url=info["phone_url"]) as phone:
        await demo_login(b, phone, mina)
        await demo_login(b, phone, bygglov)
        # Mina sidor hangs, so the first delivery is still in flight when its node dies.
        procs.signal_pid(demo.pid, signal.SIGSTOP)
        try:
            await demo_logout(b, bygglov)
            killed = node_that_served(cluster, "/end_session")
            procs.signal_pid(cluster.member(killed).pid, signal.SIGKILL)
        finally:
            procs.signal_pid(demo.pid, signal.SIGCONT)
        try:
            # Another node takes the delivery over once the dead node's claim lapses.
            assert await forgets(b, mina, 45)
        finally:
            cluster.restart(killed)
            stack.wait_http(f"http://127.0.0.1:{cluster.member(killed).port}/readyz", None,
                            proc=cluster.member(killed).proc(), timeout=30)


# --- 5. Secrets in logs ----------------------------------------------------------------

async def test_no_personal_number_pin_code_or_token_reaches_any_log_file(
        cluster: clustermod.Cluster, info: dict[str, Any]) -> None:
    pnr = register_citizen(4)
    secrets: list[str] = []
    async with browser(info) as b:
        resp, flow = await citizen.start(b, "mina-sidor", login_hint=pnr,
                                         redirect_uri=redirect_uri(info, "mina-sidor"))
        wrong = await citizen.pin_login(b, citizen.login_url(resp), pnr, "918273")
        assert wrong.status_code == 401
        flow, code = await pin_code(b, info, pnr, login_hint=pnr)
        tokens = await redeem(b, flow, code)
        secrets += [code, tokens["id_token"], tokens["access_token"], tokens["refresh_token"]]
        out = await b.get("/end_session?" + urlencode({
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": info["demos"]["mina-sidor"] + "/", "state": "s1"}))
        assert out.status_code == 303
    # A handler that fails with a personal number in its exception, on a real node.
    port = procs.free_port()
    node = procs.spawn("crashing-node", [
        procs.python(), "-m", "tests.helpers.crashing_node", "--config", cluster.settings_file,
        "serve", "--bind", f"127.0.0.1:{port}"], log=cluster.run_dir / "logs" / "crashing-node.log",
        port=port, cwd=stack.REPO)
    try:
        stack.wait_http(f"http://127.0.0.1:{port}/healthz", None, proc=node, timeout=30)
        async with httpx.AsyncClient() as http:
            crashed = await http.get(f"http://127.0.0.1:{port}/crash")
        assert crashed.status_code == 500 and "Traceback" not in crashed.text
    finally:
        procs.stop(node)
    logs = {p.name: p.read_text(errors="replace") for p in (cluster.run_dir / "logs").glob("*.log")}
    assert "RuntimeError" in logs["crashing-node.log"]  # the traceback was logged …
    forbidden = [pnr, pnr[2:], crashing_node.PNR, crashing_node.PNR[2:], "918273", "pin=4711",
                 *secrets]
    for name, text in logs.items():
        for needle in forbidden:  # … and nothing of these, anywhere
            assert not _appears(needle, text), (name, needle[:12])
        assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", text), name
    assert "/end_session HTTP" in logs["haproxy.log"] and "id_token_hint" not in logs["haproxy.log"]


def _appears(needle: str, text: str) -> bool:
    """The needle stands alone in the text, not as a run of digits inside a request id's hex."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(needle)}(?![0-9A-Za-z])", text) is not None


# --- 6. Redis and Sentinel require authentication -------------------------------------

def raw(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(command)
        return s.recv(200)


def test_every_redis_and_sentinel_refuses_an_unauthenticated_client(
        cluster: clustermod.Cluster) -> None:
    tries = {
        "redis": (b"PING\r\n", b"SET idp:sess:forged x\r\n", b"CONFIG GET *\r\n",
                  b"REPLICAOF 127.0.0.1 6399\r\n", b"FLUSHALL\r\n", b"AUTH default x\r\n"),
        "sentinel": (b"PING\r\n", b"SENTINEL RESET *\r\n", b"SENTINEL FAILOVER idportal\r\n",
                     b"SENTINEL MONITOR rogue 127.0.0.1 6399 1\r\n",
                     b"SENTINEL SET idportal quorum 1\r\n"),
    }
    for m in [*cluster.by_role("redis"), *cluster.by_role("sentinel")]:
        for command in tries[m.role]:
            answer = raw(m.port, command)
            assert answer.startswith((b"-NOAUTH", b"-WRONGPASS")), (m.name, command, answer)
    assert cluster.primary_port() in cluster.layout.redis  # nothing moved


def test_the_nodes_redis_user_reaches_only_the_stores_keys_and_commands(
        cluster: clustermod.Cluster) -> None:
    import redis

    auth = cluster.auth
    r = procs.redis_client(cluster.primary_port() or cluster.layout.redis[0],
                           username="idportal", password=auth.password("idportal"))
    try:
        r.set("idp:edge-test", "1", ex=5)
        for attempt in (lambda: r.set("other:key", "1"), lambda: r.flushall(),
                        lambda: r.config_get("*"), lambda: r.keys("*"),
                        lambda: r.execute_command("SLAVEOF", "127.0.0.1", "6399"),
                        lambda: r.execute_command("ACL", "LIST")):
            with pytest.raises(redis.exceptions.NoPermissionError):
                attempt()
    finally:
        r.close()
    for s in cluster.by_role("sentinel"):  # a wrong password is no password
        bad = procs.redis_client(s.port, password="guess")
        with pytest.raises(redis.exceptions.AuthenticationError):
            bad.ping()
        bad.close()


# --- 7. A flood of anonymous logins -------------------------------------------------

async def test_a_flood_from_one_address_gets_429_and_other_citizens_log_in(
        cluster: clustermod.Cluster, info: dict[str, Any]) -> None:
    r = cluster.redis_client(cluster.primary_port() or cluster.layout.redis[0])
    try:
        keys_before = r.dbsize()
        async with browser(info, source="127.0.0.2") as flood:
            params, _ = citizen.authorize_params("mina-sidor",
                                                 redirect_uri=redirect_uri(info, "mina-sidor"))
            answers = [await flood.get("/authorize?" + urlencode(params)) for _ in range(130)]
        # The flood left nothing in the store: a login transaction is in the browser.
        assert r.dbsize() <= keys_before  # (keys of earlier tests may expire meanwhile)
    finally:
        r.close()
    codes = [r.status_code for r in answers]
    assert codes[:100] == [200] * 100 and codes[-1] == 429
    refused = answers[-1]
    assert int(refused.headers["retry-after"]) > 0 and refused.headers["cache-control"] == "no-store"
    assert "För många förfrågningar" in refused.text
    assert refused.headers["x-request-id"] in refused.text  # the support reference
    async with browser(info, source="127.0.0.3") as other:
        flow, code = await pin_code(other, info, register_citizen(5))
        assert (await redeem(other, flow, code))["id_token"]
        token = await other.post("/token", data={"grant_type": "refresh_token"})
        assert token.status_code == 401  # an ordinary answer, not a 429


# --- 8. Metrics only inside -----------------------------------------------------------

async def test_metrics_are_served_only_on_the_internal_listener(info: dict[str, Any]) -> None:
    async with browser(info) as b:
        for path in ("/metrics", "/metrics/", "/metrics?x=1"):
            assert (await b.get(path)).status_code == 404
    async with httpx.AsyncClient() as http:
        inside = await http.get(info["nodes"][0]["metrics_url"])
    assert inside.status_code == 200 and "idportal_http_requests_total" in inside.text


# --- 9. TLS ----------------------------------------------------------------------------

@pytest.mark.parametrize("suite", ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
                                   "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384",
                                   "ECDHE-RSA-AES128-SHA", "AES128-SHA", "AES256-SHA256",
                                   "AES128-GCM-SHA256"])
def test_the_front_door_refuses_cbc_sha1_and_static_rsa_suites(
        info: dict[str, Any], suite: str) -> None:
    assert not front_door_handshake(info, suite), suite


def test_the_front_door_speaks_tls13_and_tls12_aead(info: dict[str, Any]) -> None:
    assert front_door_handshake(info, "ECDHE-ECDSA-AES128-GCM-SHA256")
    assert front_door_handshake(info, "ECDHE-ECDSA-CHACHA20-POLY1305")
    assert front_door_handshake(info, "", tls13=True)


def front_door_handshake(info: dict[str, Any], suites: str, *, tls13: bool = False) -> bool:
    return handshake(int(info["issuer"].rsplit(":", 1)[1]), info["ca_file"], suites=suites,
                     tls13=tls13)


# --- 10. Redirects ---------------------------------------------------------------------

async def test_no_answer_redirects_to_plain_http_or_another_host(info: dict[str, Any]) -> None:
    paths = ("/authorize/", "/token/", "/jwks/", "/static", "/login/", "/end_session/",
             "/.well-known/openid-configuration/", "/static/", "/login/x/bankid/")
    async with browser(info) as b:
        for path in paths:
            r = await b.get(path)
            location = r.headers.get("location", "")
            assert not location.startswith(("http://", "//")), (path, location)
            if 300 <= r.status_code < 400:
                assert location.startswith(("/", info["issuer"] + "/")), (path, location)


# --- 11. OAuth errors -------------------------------------------------------------------

RFC_CODES = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
             "unsupported_grant_type", "invalid_scope", "unsupported_token_type",
             "temporarily_unavailable", "server_error", "invalid_token", "insufficient_scope"}
SAFE = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]*$")


async def test_token_revocation_and_introspection_errors_speak_oauth(info: dict[str, Any]) -> None:
    basic = citizen.basic("mina-sidor", SECRET)
    tries: list[tuple[str, dict[str, Any]]] = [
        ("/token", {"content": b"\xff\xfe", "headers": {
            **basic, "content-type": "application/x-www-form-urlencoded"}}),
        ("/token", {"json": {"grant_type": "authorization_code"}, "headers": basic}),
        ("/token", {"content": b"a=" + b"x" * 70_000, "headers": {
            **basic, "content-type": "application/x-www-form-urlencoded"}}),
        ("/token", {"data": {"grant_type": "password"}, "headers": basic}),
        ("/token", {"data": {"grant_type": "authorization_code", "code": "x"}, "headers": basic}),
        ("/revoke", {"data": {}, "headers": basic}),
        ("/revoke", {"data": {"token": "x", "a": ["1", "2"]}, "headers": basic}),
        ("/introspect", {"content": b"token=%FF", "headers": {
            **basic, "content-type": "application/x-www-form-urlencoded"}}),
        ("/introspect", {"data": {"token": "x"}}),
        ("/userinfo", {"data": {"access_token": "x"}, "headers": {"Authorization": "Bearer y"}}),
    ]
    async with browser(info) as b:
        for path, kw in tries:
            r = await b.post(path, **kw)
            body = r.json()
            assert body["error"] in RFC_CODES, (path, body)
            assert SAFE.match(body.get("error_description", "")), (path, body)
        r = await b.get("/token")
        assert r.status_code == 405 and r.json()["error"] == "invalid_request"


# --- 12. Refresh with a narrower scope ------------------------------------------------

async def test_a_refresh_asking_for_less_gets_tokens_with_less(info: dict[str, Any]) -> None:
    async with browser(info) as b:
        flow, code = await pin_code(b, info, register_citizen(6))
        tokens = await redeem(b, flow, code)
        narrow = await b.post("/token", data={"grant_type": "refresh_token", "scope": "openid",
                                              "refresh_token": tokens["refresh_token"]},
                              headers=citizen.basic("mina-sidor", SECRET))
        assert narrow.status_code == 200 and narrow.json()["scope"] == "openid"
        keys = await citizen.jwks(b)
        assert citizen.decode(narrow.json()["access_token"], keys)["scope"] == "openid"
        assert PNR_CLAIM not in citizen.decode(narrow.json()["id_token"], keys)
        ui = await b.get("/userinfo", headers={
            "Authorization": "Bearer " + narrow.json()["access_token"]})
        assert ui.status_code == 200 and PNR_CLAIM not in ui.json()
        # The grant keeps its scope: the next refresh may ask for all of it again.
        full = await b.post("/token", data={"grant_type": "refresh_token",
                                            "refresh_token": narrow.json()["refresh_token"]},
                            headers=citizen.basic("mina-sidor", SECRET))
        assert full.status_code == 200 and set(full.json()["scope"].split()) == set(flow_scope())


def flow_scope() -> list[str]:
    return ["openid", "profile", "https://id.oidc.se/scope/naturalPersonNumber"]


# --- 13. The Swedish profile through the front door -----------------------------------

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")


async def test_acr_and_authn_provider_tell_the_truth_through_the_cluster(
        info: dict[str, Any]) -> None:
    # The local cluster is a deployment DIGG has not reviewed: uncertified LoA URIs.
    pin_uri = extensions.provider_uri("pin", info["issuer"])
    async with browser(info) as b:
        # authnProvider names the way in: the method page offers PIN only.
        only_pin, _ = await citizen.start(b, "mina-sidor",
                                          redirect_uri=redirect_uri(info, "mina-sidor"),
                                          **{extensions.AUTHN_PROVIDER: pin_uri})
        assert "/pin" in only_pin.text and "/bankid/start" not in only_pin.text
        flow, code = await pin_code(b, info, register_citizen(7))
        keys = await citizen.jwks(b)
        claims = citizen.decode((await redeem(b, flow, code))["id_token"], keys)
        # SSO later: auth_time is still the original authentication.
        await asyncio.sleep(1.1)
        sso, flow2 = await citizen.start(b, "mina-sidor",
                                         redirect_uri=redirect_uri(info, "mina-sidor"),
                                         prompt="none")
        again = citizen.decode((await redeem(b, flow2, citizen.query_of(
            sso.headers["location"])["code"]))["id_token"], keys)
    assert claims["acr"] == loa.UNCERTIFIED_LOA2
    assert claims[extensions.AUTHN_PROVIDER_CLAIM] == pin_uri
    assert again["auth_time"] == claims["auth_time"] and again["iat"] > claims["auth_time"]


async def test_a_user_message_reaches_the_login_page_and_the_bankid_app(
        info: dict[str, Any]) -> None:
    text = "Du loggar in för att se dina bygglovsärenden."
    message = json.dumps({"message#sv": base64.b64encode(text.encode()).decode()})
    async with browser(info) as b, httpx.AsyncClient(base_url=info["phone_url"]) as phone:
        resp, _ = await citizen.start(b, "mina-sidor", redirect_uri=redirect_uri(info, "mina-sidor"),
                                      **{extensions.USER_MESSAGE: message})
        assert text in resp.text
        login = citizen.login_url(resp)
        page = await b.post(login + "/bankid/start", data={"csrf": citizen.csrf_of(resp.text),
                                                           "device": "same"})
        app = await phone.post("/phone/open", json={
            "autoStartToken": citizen.protocol.autostart_token(page.text),
            "personalNumber": BANKID_PNR})
        assert app.json()["userVisibleData"] == text
        # And the browser's device data, never its cookies.
        web = app.json()["web"]
        assert web["referringDomain"] == urlsplit(info["issuer"]).hostname
        assert web["deviceIdentifier"] not in "".join(b.cookies.values())


async def test_a_current_hint_code_gets_its_message_through_the_cluster(
        info: dict[str, Any]) -> None:
    async with browser(info) as b, httpx.AsyncClient(base_url=info["phone_url"]) as phone:
        resp, _ = await citizen.start(b, "mina-sidor", redirect_uri=redirect_uri(info, "mina-sidor"))
        failed = await citizen.bankid_login(b, phone, citizen.login_url(resp), BANKID_PNR,
                                            action="transactionRiskBlocked")
        assert failed.json()["status"] == "failed" and failed.json()["rfa"] == "RISK_BLOCKED"
        assert "säkerhetsskäl" in failed.json()["message"]


async def test_on_a_phone_the_app_returns_the_citizen_to_the_login_through_the_front_door(
        info: dict[str, Any]) -> None:
    async with browser(info) as b, httpx.AsyncClient(base_url=info["phone_url"]) as phone:
        resp, _ = await citizen.start(b, "mina-sidor", redirect_uri=redirect_uri(info, "mina-sidor"))
        login = citizen.login_url(resp)
        page = await b.post(login + "/bankid/start", headers={"User-Agent": IPHONE},
                            data={"csrf": citizen.csrf_of(resp.text), "device": "same"})
        assert "https://app.bankid.com/?autostarttoken=" in page.text
        app = (await phone.post("/phone/open", json={
            "autoStartToken": citizen.protocol.autostart_token(page.text),
            "personalNumber": BANKID_PNR})).json()
        back = urlsplit(app["returnUrl"])
        assert app["returnUrl"].startswith(info["issuer"])
        done = await b.get(f"{back.path}?{back.query}", headers={"User-Agent": IPHONE})
        assert done.status_code == 303 and "code=" in done.headers["location"]


async def test_a_representative_acts_for_a_company_or_for_themself_through_the_cluster(
        info: dict[str, Any]) -> None:
    # config/representation.toml: the BankID test person acts for Exempel AB (demo).
    scope = "openid profile https://id.oidc.se/scope/naturalPersonNumber " \
            "https://id.oidc.se/scope/naturalPersonOrgId"
    seen: dict[str, dict[str, Any]] = {}
    for context in ("5560360793", "self"):
        async with browser(info) as b, httpx.AsyncClient(base_url=info["phone_url"]) as phone:
            resp, flow = await citizen.start(b, "mina-sidor", scope=scope,
                                             redirect_uri=redirect_uri(info, "mina-sidor"))
            done = await citizen.bankid_login(b, phone, citizen.login_url(resp), BANKID_PNR)
            assert done.status_code == 303 and done.headers["location"].endswith("/context")
            page = await b.get(done.headers["location"])
            assert "Exempel AB (demo)" in page.text
            tx = citizen.TX.search(page.text)
            assert tx
            back = await b.post(f"/login/{tx.group(1)}/context", data={
                "csrf": citizen.csrf_of(page.text), "context": context})
            code = citizen.query_of(back.headers["location"])["code"]
            seen[context] = citizen.decode((await redeem(b, flow, code))["id_token"],
                                           await citizen.jwks(b))
    assert seen["5560360793"]["https://id.oidc.se/claim/orgNumber"] == "5560360793"
    assert seen["5560360793"]["https://id.oidc.se/claim/orgAffiliation"] == \
        f"{BANKID_PNR}@5560360793"
    assert not any(k.startswith("https://id.oidc.se/claim/org") for k in seen["self"])

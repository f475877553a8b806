"""The session store behind Sentinel: a login survives the primary being killed in the
middle of it, and a store that stays away gives 503 + Retry-After, not a stack trace."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from ha import procs
from service import metrics, pin_admin
from service.app import create_app
from service.health import readiness
from service.pin_pages import ACTIVATION_PATH
from tests.conftest import ISSUER, PIN_CITIZEN, PNR, build_world, make_settings
from tests.helpers import citizen
from tests.helpers.redis_procs import SentinelSet, sentinel_set, single_redis

pytestmark = pytest.mark.integration


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    with sentinel_set(tmp_path) as s:
        yield s


@pytest.fixture
async def ha_world(sentinels: SentinelSet, keys_dir: Path,
                   simulator: str) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    settings = make_settings(keys_dir, "", simulator,
                             redis__sentinels=",".join(sentinels.sentinel_addrs),
                             redis__wait_replicas="1", redis__retry_budget_s="15")
    node = build_world(settings, [])
    # The node meets the primary first (a login in progress does not touch the store:
    # its transaction is in the browser), so it can notice the failover.
    assert await node.store.ping()
    app = create_app(settings, node=node)
    t = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=t, base_url=ISSUER) as browser, \
            httpx.AsyncClient(transport=t, base_url=ISSUER) as http, \
            httpx.AsyncClient(base_url=simulator) as phone:
        yield browser, http, phone
    await node.store.close()


async def test_citizen_completes_login_when_the_primary_is_killed_midway(
        sentinels: SentinelSet, ha_world: tuple[httpx.AsyncClient, ...]) -> None:
    browser, http, phone = ha_world
    seen_before = metrics.FAILOVERS_SEEN._value.get()
    resp, flow = await citizen.start(browser, "rp-basic")
    tx = citizen.TX.search(citizen.login_url(resp))
    assert tx
    page = await browser.post(f"/login/{tx.group(1)}/bankid/start",
                              data={"csrf": citizen.csrf_of(resp.text), "device": "same"})
    token = citizen.AUTOSTART.search(page.text)
    assert token

    old = sentinels.current_primary_port()
    procs.signal_pid(sentinels.proc_on(old).pid, signal.SIGKILL)
    killed_at = time.monotonic()
    await phone.post("/phone/open", json={"autoStartToken": token.group(1), "personalNumber": PNR})

    # The citizen's browser keeps collecting; the store call rides out the failover.
    body = (await browser.post(f"/login/{tx.group(1)}/bankid/collect",
                               data={"csrf": citizen.csrf_of(page.text)},
                               headers={"Accept": "application/json"})).json()
    assert body["status"] == "complete", body
    ridden_out = time.monotonic() - killed_at
    code = citizen.query_of(body["next"])["code"]
    tokens = await citizen.redeem(http, flow, code)
    assert tokens.status_code == 200
    ui = await http.get("/userinfo", headers={"Authorization": "Bearer " + tokens.json()["access_token"]})
    assert ui.status_code == 200
    assert sentinels.current_primary_port() != old
    assert metrics.FAILOVERS_SEEN._value.get() > seen_before
    assert ridden_out < 15
    # SSO still works against the new primary: the session was confirmed on a replica.
    resp, _ = await citizen.start(browser, "rp-post", prompt="none")
    assert "code" in citizen.query_of(resp.headers["location"])


async def test_a_pin_chosen_with_a_letter_survives_the_primary_being_killed(
        sentinels: SentinelSet, keys_dir: Path, simulator: str, tmp_path: Path) -> None:
    settings = make_settings(keys_dir, "", simulator,
                             redis__sentinels=",".join(sentinels.sentinel_addrs),
                             redis__wait_replicas="1", redis__retry_budget_s="15")
    node = build_world(settings, [])
    await pin_admin.import_at_start(node)
    letter = await pin_admin.issue(settings, node.store, PIN_CITIZEN, operator="Ann",
                                   reason="test", reset=True, out_dir=tmp_path)
    code = re.search(r'class="code">([0-9A-Z-]+)<', letter.path.read_text())
    assert code
    t = httpx.ASGITransport(create_app(settings, node=node))
    async with httpx.AsyncClient(transport=t, base_url=ISSUER) as browser:
        form = await browser.get(ACTIVATION_PATH)
        done = await browser.post(ACTIVATION_PATH, data={
            "csrf": citizen.csrf_of(form.text), "personal_number": PIN_CITIZEN,
            "code": code.group(1), "pin": "4826", "pin_repeat": "4826"})
        assert done.status_code == 200
        old = sentinels.current_primary_port()
        procs.signal_pid(sentinels.proc_on(old).pid, signal.SIGKILL)
        resp, _ = await citizen.start(browser, "rp-basic")
        final = await citizen.pin_login(browser, citizen.login_url(resp), PIN_CITIZEN, "4826")
        assert final.status_code == 303, final.text[:300]  # confirmed on a replica: kept
        assert sentinels.current_primary_port() != old
    await node.store.close()


async def test_store_gone_for_good_answers_503_with_retry_after(tmp_path: Path, keys_dir: Path) -> None:
    with single_redis(tmp_path) as redis_proc:
        settings = make_settings(keys_dir, f"redis://127.0.0.1:{redis_proc.port}/0",
                                 redis__retry_budget_s="1")
        node = build_world(settings, [])
        app = create_app(settings, node=node)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ISSUER) as browser:
            resp, _ = await citizen.start(browser, "rp-basic")
            assert resp.status_code == 200  # a login starts without the store …
            procs.stop(redis_proc)
            resp = await citizen.pin_login(browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
            assert resp.status_code == 503  # … and cannot finish without it
            assert resp.headers["retry-after"] == "5"
            assert resp.headers["x-request-id"] in resp.text
            assert "tillfälligt otillgänglig" in resp.text
        await node.store.close()


def test_readiness_survives_a_failover_but_not_a_long_outage() -> None:
    class N:
        keys = type("K", (), {"ring": object()})()
        draining = False
        last_store_ok = 100.0

    assert readiness(N(), 103.0)[0]  # type: ignore[arg-type]
    assert not readiness(N(), 111.0)[0]  # type: ignore[arg-type]
    n = N()
    n.draining = True
    assert not readiness(n, 100.5)[0]  # type: ignore[arg-type]

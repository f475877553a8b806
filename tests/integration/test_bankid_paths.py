"""BankID: QR and same-device flows, every outcome, and a simulator that misbehaves."""

from __future__ import annotations

import asyncio
import html
import json

import httpx
import pytest

from service.login import bankid_messages as msgs
from service.login import transaction
from tests.conftest import PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


async def start_order(world: World, device: str = "other") -> tuple[str, str]:
    tx, csrf, r = await start_page(world, device)
    assert r.status_code == 200  # the BankID page, in place
    return tx, csrf


async def start_page(world: World, device: str = "other") -> tuple[str, str, httpx.Response]:
    """Start an order from the method page; the start's answer is the BankID page."""
    resp, _ = await citizen.start(world.browser, "rp-basic")
    tx = citizen.TX.search(citizen.login_url(resp))
    assert tx
    csrf = citizen.csrf_of(resp.text)
    r = await world.browser.post(f"/login/{tx.group(1)}/bankid/start",
                                 data={"csrf": csrf, "device": device})
    return tx.group(1), csrf, r


async def collect(world: World, tx: str, csrf: str) -> dict[str, str]:
    r = await world.browser.post(f"/login/{tx}/bankid/collect", data={"csrf": csrf},
                                 headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_qr_login_completes_through_the_phone_camera(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR,
                                       device="other")
    assert final.status_code == 303 and "code=" in final.headers["location"]


async def test_pending_order_shows_the_scan_message_in_the_citizens_language(world: World) -> None:
    tx, csrf = await start_order(world)
    body = await collect(world, tx, csrf)
    assert body["status"] == "pending" and body["rfa"] == "SCAN_QR"
    page = await world.browser.get(f"/login/{tx}/bankid?lang=en")
    assert "Start the BankID app" in page.text and 'aria-live="polite"' in page.text
    assert 'lang="en"' in page.text


async def test_qr_svg_never_carries_the_secret(world: World) -> None:
    tx, _ = await start_order(world)
    svg = (await world.browser.get(f"/login/{tx}/bankid/qr.svg")).text
    page = (await world.browser.get(f"/login/{tx}/bankid")).text
    sealed = world.browser.cookies["__Secure-idp_login"]
    opened = transaction.unseal(sealed, tx, world.node.keys.current.derived_key(
        transaction.PURPOSE), now=world.node.now())
    assert opened is not None and opened.order
    secret = json.loads(opened.order)["qr_start_secret"]
    # Only the sealed transaction holds it, and that is encrypted.
    assert secret not in svg and secret not in page and secret not in sealed


@pytest.mark.parametrize(("action", "rfa"), [
    ("userCancel", "RFA6"), ("startFailed", "RFA17B"), ("certificateErr", "RFA16"),
    ("userDeclinedCall", "RFA6"), ("notSupportedByUserApp", "APP_UPDATE"),
    ("transactionRiskBlocked", "RISK_BLOCKED")])
async def test_failed_orders_show_their_rfa_message(world: World, action: str, rfa: str) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR,
                                       device="other", action=action)
    assert final.json()["status"] == "failed" and final.json()["rfa"] == rfa
    assert final.json()["message"] == msgs.message(rfa, "sv")


@pytest.mark.parametrize(("action", "rfa"), [("userMrtd", "RFA23"),
                                            ("userCallConfirm", "CALL_CONFIRM")])
async def test_pending_states_of_the_app_show_their_message(world: World, action: str,
                                                            rfa: str) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    pending = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp),
                                         PNR, action=action)
    body = pending.json()
    assert body["status"] == "pending" and body["rfa"] == rfa and body["hintCode"] == action


async def test_cancel_cancels_the_order_and_returns_to_the_method_choice(world: World) -> None:
    tx, csrf = await start_order(world)
    r = await world.browser.post(f"/login/{tx}/bankid/cancel", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == f"/login/{tx}"
    stats = (await world.phone.get("/control/stats")).json()
    assert stats["cancel"] == 1 and stats["orders"] == 0


async def test_maintenance_shows_rfa5_and_keeps_the_order(world: World) -> None:
    tx, csrf = await start_order(world)
    await world.phone.post("/control/mode", json={"mode": "maintenance"})
    body = await collect(world, tx, csrf)
    assert body["status"] == "pending" and body["rfa"] == "RFA5"
    await world.phone.post("/control/mode", json={"mode": "normal"})
    assert (await collect(world, tx, csrf))["rfa"] == "SCAN_QR"


async def test_simulator_down_at_start_gives_a_clear_page_not_a_500(world: World) -> None:
    await world.phone.post("/control/mode", json={"mode": "internalError"})
    tx, _, page = await start_page(world)
    assert page.status_code == 503 and "Internt tekniskt fel" in page.text
    page = await world.browser.get(f"/login/{tx}/bankid")  # and so does the page, reloaded
    assert page.status_code == 503 and "Internt tekniskt fel" in page.text


async def test_garbage_from_bankid_is_survived(world: World) -> None:
    await world.phone.post("/control/mode", json={"mode": "garbage"})
    _, _, page = await start_page(world)
    assert page.status_code in (200, 503) and "RFA" not in page.text.split("<main")[0]
    assert "Traceback" not in page.text


async def test_collect_without_csrf_is_refused(world: World) -> None:
    tx, _ = await start_order(world)
    r = await world.browser.post(f"/login/{tx}/bankid/collect", data={"csrf": "x"})
    assert r.status_code == 403


async def test_a_completed_login_cannot_be_collected_again(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    url = citizen.login_url(resp)
    final = await citizen.bankid_login(world.browser, world.phone, url, PNR)
    assert final.status_code == 303
    tx = citizen.TX.search(url)
    assert tx
    again = await world.browser.post(f"/login/{tx.group(1)}/bankid/collect",
                                     data={"csrf": citizen.csrf_of(resp.text)})
    assert again.status_code in (403, 410)


async def test_completing_collect_sets_the_session_cookie_for_the_script(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    assert final.headers["location"].startswith("https://rp.test/cb?code=")
    assert world.browser.cookies.get("__Host-idp_session")


@pytest.mark.parametrize("world", [{"bankid__timeout_s": "0.5"}], indirect=True)
async def test_a_bankid_that_answers_too_slowly_gives_rfa5_not_a_hang(world: World) -> None:
    await world.phone.post("/control/mode", json={"mode": "slow", "delayMs": 2000})
    _, _, page = await start_page(world)
    assert page.status_code == 503 and "Internt tekniskt fel" in page.text
    await world.phone.post("/control/mode", json={"mode": "normal"})


async def test_two_collects_that_both_see_the_order_complete_finish_the_login_once(world: World) -> None:
    # The script's collect and a press of the no-script button can cross: both find the
    # order complete (a slow BankID keeps them side by side), only one takes the
    # transaction, and the other writes nothing.
    tx, csrf, page = await start_page(world, "same")
    token = citizen.AUTOSTART.search(page.text)
    assert token
    r = await world.phone.post("/phone/open", json={
        "autoStartToken": html.unescape(token.group(1)), "personalNumber": PNR})
    assert r.status_code == 200
    await world.phone.post("/control/mode", json={"mode": "slow", "delayMs": 300})
    try:
        answers = await asyncio.gather(*(world.browser.post(
            f"/login/{tx}/bankid/collect", data={"csrf": csrf},
            headers={"Accept": "application/json"}) for _ in range(2)))
    finally:
        await world.phone.post("/control/mode", json={"mode": "normal"})
    won, lost = sorted(answers, key=lambda a: a.status_code)
    assert won.status_code == 200 and won.json()["status"] == "complete"
    assert lost.status_code == 410 and lost.json()["error"] == "err_tx_expired"
    assert lost.json()["support_ref"]
    assert len(list(world.redis.scan_iter("idp:sess:*"))) == 1
    assert len(list(world.redis.scan_iter("idp:grant:*"))) == 1

"""The login pages come in place, not behind redirects: ``/authorize`` answers a new
login with the method page (PIN form included) and the BankID start answers with the
BankID page. Fewer round trips for the citizen, and still no state lost or doubled."""

from __future__ import annotations

import pytest

from tests.conftest import PIN_CITIZEN, PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


async def test_authorize_answers_a_new_login_with_the_method_page_and_binds_the_browser(
        world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    assert resp.status_code == 200 and "location" not in resp.headers
    assert "__Host-idp_browser" in resp.headers.get("set-cookie", "")
    assert resp.headers["cache-control"] == "no-store"
    tx = citizen.login_url(resp)
    # The same page is there for a reload or a language switch.
    again = await world.browser.get(tx + "?lang=en")
    assert again.status_code == 200 and citizen.csrf_of(again.text) == citizen.csrf_of(resp.text)


async def test_the_pin_form_on_the_method_page_logs_in_without_another_page(
        world: World) -> None:
    resp, flow = await citizen.start(world.browser, "rp-basic")
    url = citizen.login_url(resp)
    assert f'action="{url}/pin"' in resp.text
    final = await world.browser.post(f"{url}/pin", data={
        "csrf": citizen.csrf_of(resp.text), "personal_number": PIN_CITIZEN, "pin": "1234"})
    assert final.status_code == 303, final.text
    tok = await citizen.redeem(world.http, flow, citizen.query_of(final.headers["location"])["code"])
    assert tok.status_code == 200


async def test_login_hint_opens_the_pin_form_on_the_method_page_prefilled(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", login_hint=PIN_CITIZEN)
    assert '<details class="pin" open>' in resp.text
    assert f'value="{PIN_CITIZEN}"' in resp.text


async def test_method_page_of_a_loa3_eservice_has_no_pin_form(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-loa3")
    assert citizen.shows_login(resp)
    assert "/pin" not in resp.text and 'name="pin"' not in resp.text


async def test_bankid_start_answers_with_the_bankid_page(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    url = citizen.login_url(resp)
    page = await world.browser.post(f"{url}/bankid/start", data={
        "csrf": citizen.csrf_of(resp.text), "device": "same"})
    assert page.status_code == 200 and citizen.AUTOSTART.search(page.text)
    assert f'action="{url}/bankid/collect"' in page.text


async def test_posting_the_start_again_cancels_the_first_order_and_only_the_new_one_counts(
        world: World) -> None:
    """A reload of the BankID page posts the start again: the first order is cancelled
    at BankID, and approving it in the app can no longer log anyone in."""
    resp, _ = await citizen.start(world.browser, "rp-basic")
    url, csrf = citizen.login_url(resp), citizen.csrf_of(resp.text)
    first = await world.browser.post(f"{url}/bankid/start", data={"csrf": csrf, "device": "same"})
    second = await world.browser.post(f"{url}/bankid/start", data={"csrf": csrf, "device": "same"})
    t1, t2 = citizen.AUTOSTART.search(first.text), citizen.AUTOSTART.search(second.text)
    assert t1 and t2 and t1.group(1) != t2.group(1)
    old = await world.phone.post("/phone/open", json={"autoStartToken": t1.group(1),
                                                      "personalNumber": PNR})
    assert old.status_code != 200  # cancelled at BankID
    new = await world.phone.post("/phone/open", json={"autoStartToken": t2.group(1),
                                                      "personalNumber": PNR})
    assert new.status_code == 200
    body = (await world.browser.post(f"{url}/bankid/collect", data={"csrf": csrf},
                                     headers={"Accept": "application/json"})).json()
    assert body["status"] == "complete" and "code=" in body["next"]


async def test_bankid_start_without_csrf_shows_no_page_and_starts_no_order(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    url = citizen.login_url(resp)
    before = (await world.phone.get("/control/stats")).json()["auth"]
    r = await world.browser.post(f"{url}/bankid/start", data={"device": "same"})
    assert r.status_code == 403 and not citizen.AUTOSTART.search(r.text)
    assert (await world.phone.get("/control/stats")).json()["auth"] == before

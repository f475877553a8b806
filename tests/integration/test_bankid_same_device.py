"""BankID on the same device as BankID works today: on a phone the universal link
(app.bankid.com) and a ``returnUrl`` with a nonce of the order, on which only the browser
that started the order goes on; on a computer ``bankid:///``. Every order carries the
browser's ``web`` device data, never its cookie."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
LINK = re.compile(r'id="autostart" href="([^"]+)"')


async def same_device_order(world: World, *, user_agent: str = "") -> tuple[str, dict[str, Any]]:
    """Start BankID on this device and open the app: the page's link and what the app got."""
    headers = {"User-Agent": user_agent} if user_agent else {}
    resp, _ = await citizen.start(world.browser, "rp-basic")
    tx = citizen.login_url(resp)
    page = await world.browser.post(tx + "/bankid/start", headers=headers, data={
        "csrf": citizen.csrf_of(resp.text), "device": "same"})
    link = LINK.search(page.text)
    assert link, page.text[:300]
    token = citizen.protocol.autostart_token(page.text)
    assert token
    app = await world.phone.post("/phone/open", json={
        "autoStartToken": token, "personalNumber": PNR})
    return html.unescape(link.group(1)), dict(app.json())


async def test_on_a_phone_the_universal_link_and_the_return_url_finish_the_login(
        world: World) -> None:
    link, app = await same_device_order(world, user_agent=IPHONE)
    assert link.startswith("https://app.bankid.com/?autostarttoken=")
    back = urlsplit(app["returnUrl"])
    assert back.path.endswith("/bankid/return") and "nonce=" in back.query
    # The app returns the citizen to the browser that started the order: it goes on.
    final = await world.browser.get(f"{back.path}?{back.query}", headers={"User-Agent": IPHONE})
    assert final.status_code == 303 and "code=" in final.headers["location"]
    assert world.browser.cookies.get("__Host-idp_session")


async def test_on_a_computer_the_desktop_app_link(world: World) -> None:
    link, app = await same_device_order(world)
    assert link.startswith("bankid:///?autostarttoken=")
    assert app["returnUrl"]  # the order says where to return either way


async def test_the_return_url_in_another_browser_goes_nowhere(world: World) -> None:
    _, app = await same_device_order(world, user_agent=IPHONE)
    back = urlsplit(app["returnUrl"])
    async with world.new_browser() as other:
        r = await other.get(f"{back.path}?{back.query}")
        assert r.status_code == 410 and "location" not in r.headers


async def test_a_return_with_another_nonce_is_refused(world: World) -> None:
    _, app = await same_device_order(world, user_agent=IPHONE)
    back = urlsplit(app["returnUrl"])
    r = await world.browser.get(back.path + "?nonce=guessed-nonce-0000000")
    assert r.status_code == 403 and "__Host-idp_session" not in world.browser.cookies


async def test_every_order_carries_the_browsers_device_data_and_not_its_cookie(
        world: World) -> None:
    _, app = await same_device_order(world, user_agent=IPHONE)
    web = app["web"]
    assert web["referringDomain"] == urlsplit(world.settings.issuer).hostname
    assert web["userAgent"] == IPHONE
    assert re.fullmatch(r"[0-9a-f]{64}", web["deviceIdentifier"])
    cookies = "".join(world.browser.cookies.values())
    assert web["deviceIdentifier"] not in cookies


async def test_a_qr_order_has_no_return_url(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    tx = citizen.login_url(resp)
    await world.browser.post(tx + "/bankid/start", data={"csrf": citizen.csrf_of(resp.text),
                                                          "device": "other"})
    from simulators.bankid.camera import read_svg

    svg = await world.browser.get(tx + "/bankid/qr.svg")
    app = await world.phone.post("/phone/scan", json={"qr": read_svg(svg.text),
                                                      "personalNumber": PNR})
    assert app.json()["returnUrl"] == ""

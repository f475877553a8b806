""""Mina inloggningar": a citizen logs in at idportal itself (LoA3), sees where they are
logged in, and logs out everywhere; the e-services lose the session. Same page rules
as the login pages."""

from __future__ import annotations

import pytest

from tests.conftest import World
from tests.helpers import citizen
from tests.integration.test_page_rules import check

pytestmark = pytest.mark.integration
PNR = "198112189876"


async def test_without_a_session_the_page_offers_a_login_at_loa3(world: World) -> None:
    page = await world.browser.get("/mina-inloggningar")
    assert page.status_code == 200
    check(page.text, "sv")
    assert citizen.TX.search(page.text) is None  # no login started yet: a link to one
    start = await world.browser.get(page.text.split('class="button" href="')[1].split('"')[0]
                                    .replace("&amp;", "&"))
    assert start.status_code == 200 and "/bankid/start" in start.text
    assert 'name="pin"' not in start.text  # LoA3: no PIN


async def test_a_citizen_sees_their_sessions_and_logs_out_everywhere(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    done = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    assert done.status_code == 303
    page = await world.browser.get("/mina-inloggningar?lang=en")
    assert page.status_code == 200 and "Basic RP" in page.text and "this browser" in page.text
    check(page.text, "en")
    csrf = citizen.csrf_of(page.text)
    refused = await world.browser.post("/mina-inloggningar/logout", data={"csrf": "forged"})
    assert refused.status_code == 403
    bye = await world.browser.post("/mina-inloggningar/logout", data={"csrf": csrf})
    assert bye.status_code == 200
    sso, _ = await citizen.start(world.browser, "rp-basic", prompt="none")
    assert citizen.query_of(sso.headers["location"])["error"] == "login_required"
    assert any("rp.test/bcl" in url for url, _ in world.backchannel)  # rp-basic was told


async def test_a_pin_session_is_asked_to_log_in_stronger_first(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    done = await citizen.pin_login(world.browser, citizen.login_url(resp), "194001011008", "1234")
    assert done.status_code == 303
    page = await world.browser.get("/mina-inloggningar")
    assert "/authorize?" in page.text and "Logga ut överallt" not in page.text

"""On every page: help, the support desk's contact and the accessibility statement in
the footer; a cancel that takes the citizen back to the e-service with
``error=access_denied``; and the language the citizen chose (or the e-service's
``ui_locales``) stays for the whole login."""

from __future__ import annotations

import pytest

from service.web.help import TOPICS
from tests.conftest import World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


async def test_every_login_page_has_help_contact_and_the_accessibility_statement(
        world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    login = citizen.login_url(resp)
    csrf = citizen.csrf_of(resp.text)
    pages = [resp, await world.browser.get(f"{login}/pin"),
             await world.browser.post(f"{login}/bankid/start", data={"csrf": csrf}),
             await world.browser.post(f"{login}/freja/start", data={"csrf": csrf})]
    for page in pages:
        assert 'href="/help?lang=sv"' in page.text and 'href="/accessibility?lang=sv"' in page.text
        assert world.settings.help.contact in page.text
        assert f'action="/login/{login.rsplit("/", 1)[1]}/cancel"' in page.text


async def test_help_pages_and_the_statement_exist_in_both_languages(world: World) -> None:
    for lang in ("sv", "en"):
        for path in ("/help", *(f"/help/{t}" for t in TOPICS), "/accessibility"):
            page = await world.browser.get(f"{path}?lang={lang}")
            assert page.status_code == 200 and f'<html lang="{lang}">' in page.text, path
    assert (await world.browser.get("/help/nothing-here")).status_code == 404


async def test_cancel_returns_to_the_e_service_with_access_denied_and_ends_the_login(
        world: World) -> None:
    resp, flow = await citizen.start(world.browser, "rp-basic")
    login = citizen.login_url(resp)
    back = await world.browser.post(f"{login}/cancel", data={"csrf": citizen.csrf_of(resp.text)})
    assert back.status_code == 303
    q = citizen.query_of(back.headers["location"])
    assert back.headers["location"].startswith(flow.redirect_uri)
    assert q["error"] == "access_denied" and q["state"] == flow.state and q["iss"]
    assert (await world.browser.get(login)).status_code in (403, 410)  # it is over


async def test_cancel_without_the_forms_token_is_refused(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    login = citizen.login_url(resp)
    assert (await world.browser.post(f"{login}/cancel", data={"csrf": "x"})).status_code == 403


async def test_the_language_a_citizen_chose_stays_for_the_whole_login(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    login = citizen.login_url(resp)
    english = await world.browser.get(f"{login}?lang=en")
    assert '<html lang="en">' in english.text
    bankid = await world.browser.post(f"{login}/bankid/start",
                                      data={"csrf": citizen.csrf_of(english.text)})
    assert '<html lang="en">' in bankid.text, "BankID's page in the chosen language"
    assert '<html lang="en">' in (await world.browser.get(f"{login}/pin")).text


async def test_ui_locales_holds_for_every_page_of_the_login(world: World) -> None:
    browser = world.new_browser()
    resp, _ = await citizen.start(browser, "rp-basic", ui_locales="en")
    login = citizen.login_url(resp)
    assert '<html lang="en">' in resp.text
    page = await browser.post(f"{login}/bankid/start", data={"csrf": citizen.csrf_of(resp.text)})
    assert '<html lang="en">' in page.text
    assert '<html lang="en">' in (await browser.get(f"{login}/pin")).text
    await browser.aclose()

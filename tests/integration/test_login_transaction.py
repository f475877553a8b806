"""The login transaction travels sealed in the browser: starting a login writes nothing
to the store, a finished transaction cannot be finished again with a kept copy, a
changed one is refused, and an authorization request too large to carry is sent back to
the e-service as ``invalid_request``."""

from __future__ import annotations

import pytest

from tests.conftest import PIN_CITIZEN, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
COOKIE = "__Secure-idp_login"


async def test_starting_logins_writes_nothing_to_the_store(world: World) -> None:
    before = world.redis.dbsize()
    for _ in range(20):
        resp, _ = await citizen.start(world.browser, "rp-basic")
        assert citizen.shows_login(resp)
    assert world.redis.dbsize() == before


async def test_a_kept_copy_of_a_finished_transaction_cannot_finish_it_again(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    url = citizen.login_url(resp)
    page = await world.browser.get(url + "/pin")
    kept = world.browser.cookies[COOKIE]
    form = {"csrf": citizen.csrf_of(page.text), "personal_number": PIN_CITIZEN, "pin": "1234"}
    assert (await world.browser.post(url + "/pin", data=form)).status_code == 303
    assert COOKIE not in world.browser.cookies  # the browser was told to forget it
    world.browser.cookies.set(COOKIE, kept, domain="idp.test", path=url)
    again = await world.browser.post(url + "/pin", data=form)
    assert again.status_code == 410 and "Ange referensen" in again.text
    assert len(list(world.redis.scan_iter("idp:sess:*"))) == 1


async def test_a_changed_transaction_is_refused(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    url = citizen.login_url(resp)
    sealed = world.browser.cookies[COOKIE]
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    world.browser.cookies.set(COOKIE, flipped, domain="idp.test", path=url)
    r = await world.browser.get(url)
    assert r.status_code == 410 and "Traceback" not in r.text


async def test_a_transaction_is_refused_at_another_logins_pages(world: World) -> None:
    first = citizen.login_url((await citizen.start(world.browser, "rp-basic"))[0])
    second = citizen.login_url((await citizen.start(world.browser, "rp-basic"))[0])
    sealed = world.browser.cookies.get(COOKIE, path=first)
    world.browser.cookies.set(COOKIE, sealed, domain="idp.test", path=second)
    assert (await world.browser.get(second)).status_code == 410
    assert (await world.browser.get(first)).status_code == 200


async def test_an_authorization_request_too_large_to_carry_goes_back_as_invalid_request(
        world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", state="s" * 2000, nonce="n" * 2000)
    assert resp.status_code in (302, 303)
    back = citizen.query_of(resp.headers["location"])
    assert back["error"] == "invalid_request" and "too large" in back["error_description"]
    assert back["state"] == "s" * 2000

"""PIN login: argon2id register, throttling, lockout, no user enumeration."""

from __future__ import annotations

import asyncio

import pytest

from service import loa
from tests.conftest import PIN_CITIZEN, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


async def login_url(world: World) -> str:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    return citizen.login_url(resp)


async def test_right_pin_logs_in_at_loa2(world: World) -> None:
    resp, flow = await citizen.start(world.browser, "rp-basic")
    final = await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    assert final.status_code == 303
    tok = await citizen.redeem(world.http, flow, citizen.query_of(final.headers["location"])["code"])
    claims = citizen.decode(tok.json()["id_token"], await citizen.jwks(world.http))
    assert claims["acr"] == loa.UNCERTIFIED_LOA2
    assert claims["amr"] == ["pin"]


async def test_wrong_pin_and_unknown_person_get_the_same_answer(world: World) -> None:
    url = await login_url(world)
    wrong = await citizen.pin_login(world.browser, url, PIN_CITIZEN, "9999")
    unknown = await citizen.pin_login(world.browser, url, "198112180040", "1234")
    assert wrong.status_code == unknown.status_code == 401

    def message(text: str) -> str:
        return text.split('role="alert"')[1].split("</p>")[0]

    assert message(wrong.text) == message(unknown.text)


async def test_invalid_personal_number_is_reported_before_any_pin_check(world: World) -> None:
    url = await login_url(world)
    r = await citizen.pin_login(world.browser, url, "198112189875", "1234")
    assert r.status_code == 400 and "check digit" in r.text
    assert not list(world.redis.scan_iter("idp:pinfail:*"))


async def test_five_misses_lock_the_pin_from_that_address_even_with_the_right_pin(world: World) -> None:
    url = await login_url(world)
    for _ in range(5):
        assert (await citizen.pin_login(world.browser, url, PIN_CITIZEN, "0000")).status_code == 401
    locked = await citizen.pin_login(world.browser, url, PIN_CITIZEN, "1234")
    assert locked.status_code == 429
    # The lock is bounded in time: counters carry the failure window as their TTL.
    for key in world.redis.scan_iter("idp:pinfail:*"):
        assert 0 < world.redis.ttl(key) <= world.settings.lifetimes.pin_failure_window


async def test_lock_lifts_when_the_window_passes(world: World) -> None:
    url = await login_url(world)
    for _ in range(5):
        await citizen.pin_login(world.browser, url, PIN_CITIZEN, "0000")
    for key in world.redis.scan_iter("idp:pinfail:*"):
        world.redis.delete(key)  # what the TTL does after the window
    assert (await citizen.pin_login(world.browser, url, PIN_CITIZEN, "1234")).status_code == 303


async def test_pin_form_without_csrf_token_is_refused(world: World) -> None:
    url = await login_url(world)
    tx = citizen.TX.search(url)
    assert tx
    await world.browser.get(url)
    r = await world.browser.post(f"/login/{tx.group(1)}/pin",
                                 data={"personal_number": PIN_CITIZEN, "pin": "1234"})
    assert r.status_code == 403 and "Ange referensen" in r.text


async def test_login_page_from_another_browser_is_refused(world: World) -> None:
    url = await login_url(world)
    tx = citizen.TX.search(url)
    assert tx
    async with world.new_browser() as other:
        assert (await other.get(url)).status_code == 410  # it has no transaction
        # Even with the sealed transaction copied over, it is not the browser it is bound to.
        other.cookies.set("__Secure-idp_login", world.browser.cookies["__Secure-idp_login"],
                          domain="idp.test", path=f"/login/{tx.group(1)}")
        r = await other.get(url)
        assert r.status_code == 403


async def test_successful_pin_clears_its_own_bucket_and_gives_back_only_its_own_attempt(
        world: World) -> None:
    url = await login_url(world)
    await citizen.pin_login(world.browser, url, PIN_CITIZEN, "0000")
    assert (await citizen.pin_login(world.browser, url, PIN_CITIZEN, "1234")).status_code == 303
    assert list(world.redis.scan_iter("idp:pinfail:person-ip:*")) == []
    # The miss before it still counts toward the person's limit: a success must not hand
    # an attacker elsewhere a fresh set of guesses.
    (person,) = world.redis.scan_iter("idp:pinfail:person:*")
    assert world.redis.get(person) == "1"


def verifications() -> float:
    from service import metrics

    return metrics.REGISTRY.get_sample_value("idportal_pin_verifications_total") or 0.0


async def test_a_locked_attempt_costs_no_verification_and_tells_the_way_out(world: World) -> None:
    url = await login_url(world)
    for _ in range(5):
        await citizen.pin_login(world.browser, url, PIN_CITIZEN, "0000")
    before = verifications()
    locked = await citizen.pin_login(world.browser, url, PIN_CITIZEN, "1234")
    assert verifications() == before
    assert locked.status_code == 429 and 0 < int(locked.headers["retry-after"]) <= 900
    assert "BankID" in locked.text and "kundtjänst" in locked.text
    assert "Ange referensen" in locked.text or locked.headers["x-request-id"] in locked.text


async def test_parallel_wrong_pins_get_no_more_verifications_than_the_limit(world: World) -> None:
    url = await login_url(world)
    tx = citizen.TX.search(url)
    assert tx
    page = await world.browser.get(f"/login/{tx.group(1)}/pin")
    form = {"csrf": citizen.csrf_of(page.text), "personal_number": PIN_CITIZEN, "pin": "0000"}
    before = verifications()
    answers = await asyncio.gather(*(world.browser.post(f"/login/{tx.group(1)}/pin", data=form)
                                     for _ in range(20)))
    assert verifications() - before == 5
    assert sorted(r.status_code for r in answers) == [401] * 5 + [429] * 15


async def test_a_citizens_own_browser_is_not_locked_by_misses_from_another(world: World) -> None:
    # The citizen logs in once: this browser is now known for them.
    url = await login_url(world)
    assert (await citizen.pin_login(world.browser, url, PIN_CITIZEN, "1234")).status_code == 303
    async with world.new_browser() as attacker:
        resp, _ = await citizen.start(attacker, "rp-basic")
        other = citizen.login_url(resp)
        for _ in range(5):
            await citizen.pin_login(attacker, other, PIN_CITIZEN, "0000")
        assert (await citizen.pin_login(attacker, other, PIN_CITIZEN, "1234")).status_code == 429
    resp, _ = await citizen.start(world.browser, "rp-basic", prompt="login")
    own = await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    assert own.status_code == 303


async def test_a_known_browser_cookie_for_another_citizen_counts_as_unknown(world: World) -> None:
    url = await login_url(world)
    assert (await citizen.pin_login(world.browser, url, PIN_CITIZEN, "1234")).status_code == 303
    other_citizen = "196109061017"
    resp, _ = await citizen.start(world.browser, "rp-basic", prompt="login")
    url = citizen.login_url(resp)
    await citizen.pin_login(world.browser, url, other_citizen, "0000")
    assert list(world.redis.scan_iter("idp:pinfail:person-dev:*")) == []
    assert len(list(world.redis.scan_iter("idp:pinfail:person-ip:*"))) == 1


async def test_a_double_submit_finishes_the_login_once_and_leaves_no_orphan_session(world: World) -> None:
    # Both posts pass the page checks and the PIN check; only one may finish the
    # transaction. The other writes nothing (the step that would write its session,
    # code and grant refuses it), so no session exists that no browser holds.
    url = await login_url(world)
    tx = citizen.TX.search(url)
    assert tx
    page = await world.browser.get(f"/login/{tx.group(1)}/pin")
    form = {"csrf": citizen.csrf_of(page.text), "personal_number": PIN_CITIZEN, "pin": "1234"}
    posts = await asyncio.gather(*(world.browser.post(f"/login/{tx.group(1)}/pin", data=form)
                                   for _ in range(2)))
    assert sorted(r.status_code for r in posts) == [303, 410]
    assert "Ange referensen" in next(r.text for r in posts if r.status_code == 410)
    assert len(list(world.redis.scan_iter("idp:sess:*"))) == 1
    assert len(list(world.redis.scan_iter("idp:grant:*"))) == 1

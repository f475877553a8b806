"""SSO across e-services, prompt/max_age, step-up, logout (RP-initiated and back-channel)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest

from tests.conftest import PIN_CITIZEN, PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


async def bankid(world: World, client_id: str = "rp-basic", **kw: str) -> tuple[citizen.Flow, str]:
    return await citizen.bankid_code(world.browser, world.phone, client_id, PNR, **kw)


async def test_second_eservice_gets_a_code_without_a_login_page(world: World) -> None:
    await bankid(world)
    resp, flow = await citizen.start(world.browser, "rp-loa3")
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("https://rp.test/cb?")
    code = citizen.query_of(resp.headers["location"])["code"]
    r = await world.http.post("/token", data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": flow.redirect_uri,
                                              "code_verifier": flow.verifier},
                              headers=citizen.basic("rp-loa3"))
    assert r.status_code == 200


async def test_prompt_none_without_session_redirects_login_required(world: World) -> None:
    resp, flow = await citizen.start(world.browser, "rp-basic", prompt="none")
    q = citizen.query_of(resp.headers["location"])
    assert q["error"] == "login_required" and q["state"] == flow.state and q["iss"]


async def test_prompt_none_with_session_answers_at_once(world: World) -> None:
    await bankid(world)
    resp, _ = await citizen.start(world.browser, "rp-post", prompt="none")
    assert "code" in citizen.query_of(resp.headers["location"])


async def test_prompt_login_and_max_age_force_a_new_login(world: World) -> None:
    await bankid(world)
    resp, _ = await citizen.start(world.browser, "rp-post", prompt="login")
    assert citizen.shows_login(resp)
    await asyncio.sleep(1.1)
    resp, _ = await citizen.start(world.browser, "rp-post", max_age="0")
    assert citizen.shows_login(resp)
    resp, _ = await citizen.start(world.browser, "rp-post", max_age="10000")
    assert "code" in citizen.query_of(resp.headers["location"])


async def test_pin_session_is_stepped_up_with_bankid_for_a_loa3_eservice(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    final = await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    assert final.status_code == 303, final.text
    cookie1 = world.browser.cookies.get("__Host-idp_session")
    resp, _ = await citizen.start(world.browser, "rp-loa3")
    login_url = citizen.login_url(resp)
    page = resp
    assert "/pin" not in page.text  # the method page offers BankID only
    final = await citizen.bankid_login(world.browser, world.phone, login_url, PIN_CITIZEN)
    assert final.status_code == 303, final.text
    assert "code" in citizen.query_of(final.headers["location"])
    assert world.browser.cookies.get("__Host-idp_session") != cookie1  # new id at every login
    # The step-up session still knows both e-services, so logout reaches the first one too.
    sessions = list(world.redis.scan_iter("idp:sess:*"))
    assert len(sessions) == 1  # the LoA2 session is gone
    fields = world.redis.hkeys(sessions[0])
    assert {"rp:rp-basic", "rp:rp-loa3"} <= set(fields)


async def test_pin_is_refused_for_a_loa3_eservice(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-loa3")
    url = citizen.login_url(resp)
    assert "/pin" not in resp.text  # not offered
    r = await world.browser.get(f"{url}/pin")
    assert r.status_code == 403
    r = await world.browser.post(f"{url}/pin", data={  # and not taken when posted anyway
        "csrf": citizen.csrf_of(resp.text), "personal_number": PIN_CITIZEN, "pin": "1234"})
    assert r.status_code == 403 and "location" not in r.headers


async def test_session_cookie_is_host_prefixed_secure_httponly_lax(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    final = await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    cookies = {c.split("=", 1)[0]: c for c in final.headers.get_list("set-cookie")}
    set_cookie = cookies["__Host-idp_session"]
    for attr in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
        assert attr.lower() in set_cookie.lower()
    assert "domain" not in set_cookie.lower()
    assert len(world.browser.cookies["__Host-idp_session"]) >= 43  # 256 bits
    # The finished login's transaction is taken from the browser.
    assert "max-age=0" in cookies["__Secure-idp_login"].lower()
    assert "__Secure-idp_login" not in world.browser.cookies


async def test_logout_with_id_token_hint_ends_the_session_everywhere(world: World) -> None:
    flow, code = await bankid(world)
    tokens = (await citizen.redeem(world.http, flow, code)).json()
    resp, flow2 = await citizen.start(world.browser, "rp-loa3")
    code2 = citizen.query_of(resp.headers["location"])["code"]
    await world.http.post("/token", data={"grant_type": "authorization_code", "code": code2,
                                          "redirect_uri": flow2.redirect_uri,
                                          "code_verifier": flow2.verifier},
                          headers=citizen.basic("rp-loa3"))
    r = await world.browser.get("/end_session?" + urlencode({
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://rp.test/bye",
        "state": "bye1"}))
    assert r.status_code == 303 and r.headers["location"] == "https://rp.test/bye?state=bye1"
    # Back-end: the access token and refresh token of the session are dead.
    ui = await world.http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert ui.status_code == 401
    # Back-channel: both e-services were told, with a logout token naming the session.
    urls = sorted(u for u, _ in world.backchannel)
    assert urls == ["https://rp.test/bcl", "https://rp.test/bcl3"]
    body = world.backchannel[0][1]
    token = body.split("=", 1)[1]
    claims = citizen.decode(token, await citizen.jwks(world.http))
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
    assert claims["sid"] and "nonce" not in claims
    # Front: a new authorize needs a login again.
    resp, _ = await citizen.start(world.browser, "rp-basic", prompt="none")
    assert citizen.query_of(resp.headers["location"])["error"] == "login_required"


async def test_logout_without_hint_asks_the_citizen_to_confirm(world: World) -> None:
    await bankid(world)
    r = await world.browser.get("/end_session")
    assert r.status_code == 200 and 'name="csrf"' in r.text
    forged = await world.browser.post("/end_session", data={"csrf": "forged"})
    assert forged.status_code == 200 and 'name="csrf"' in forged.text  # still asks
    r = await world.browser.post("/end_session", data={"csrf": citizen.csrf_of(r.text)})
    assert r.status_code == 200
    resp, _ = await citizen.start(world.browser, "rp-basic", prompt="none")
    assert citizen.query_of(resp.headers["location"])["error"] == "login_required"


async def test_unregistered_post_logout_redirect_is_an_error_page(world: World) -> None:
    flow, code = await bankid(world)
    tokens = (await citizen.redeem(world.http, flow, code)).json()
    r = await world.browser.get("/end_session?" + urlencode({
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.test/"}))
    assert r.status_code == 400 and "location" not in r.headers


async def test_idle_timeout_ends_the_session(world: World) -> None:
    await bankid(world)
    for key in world.redis.scan_iter("idp:sess:*"):
        world.redis.expire(key, 1)
    await asyncio.sleep(1.2)
    resp, _ = await citizen.start(world.browser, "rp-basic", prompt="none")
    assert citizen.query_of(resp.headers["location"])["error"] == "login_required"


async def test_absolute_timeout_is_never_extended_by_use(world: World) -> None:
    await bankid(world)
    key = next(iter(world.redis.scan_iter("idp:sess:*")))
    world.redis.hset(key, "abs", "1")  # absolute expiry in the past
    resp, _ = await citizen.start(world.browser, "rp-basic", prompt="none")
    assert citizen.query_of(resp.headers["location"])["error"] == "login_required"
    assert not world.redis.exists(key)


async def test_redis_memory_per_session_is_under_one_kilobyte(world: World) -> None:
    # A browser's long User-Agent, kept in the session for the citizen's own page.
    world.browser.headers["user-agent"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0")
    await bankid(world)
    await citizen.start(world.browser, "rp-loa3")
    key = next(iter(world.redis.scan_iter("idp:sess:*")))
    assert world.redis.memory_usage(key) < 1024

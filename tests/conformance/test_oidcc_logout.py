"""The OpenID Foundation's logout test plans, mirrored: oidcc-rp-initiated-logout
(RP-Initiated Logout 1.0) and oidcc-backchannel-rp-initiated-logout (Back-Channel Logout
1.0). One test per module, named after the module id, asserting what it asserts; plus
the cases the outside review tried (another citizen's hint, an expired own hint)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from demo.backchannel import InvalidLogoutToken, SeenTokens, validate
from service import metrics
from service.sso import backchannel
from tests.conformance.test_oidcc_basic import login, tokens
from tests.conftest import PIN_CITIZEN, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
BYE = "https://rp.test/bye"


async def logged_in(world: World, client_id: str = "rp-basic") -> dict[str, Any]:
    flow, q = await login(world, client_id)
    return await tokens(world, flow, q["code"])


async def still_logged_in(world: World) -> bool:
    resp, _ = await citizen.start(world.browser, "rp-basic", prompt="none")
    return resp.status_code == 303 and "code=" in resp.headers["location"]


async def end_session(world: World, **params: str) -> Any:
    return await world.browser.get("/end_session?" + urlencode(params))


def confirms(resp: Any) -> bool:
    return resp.status_code == 200 and 'action="/end_session"' in resp.text


def is_error_page(resp: Any) -> bool:
    return resp.status_code == 400 and "location" not in resp.headers and "Ange referensen" in resp.text


def alg_none(token: str) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return header.rstrip(b"=").decode() + "." + token.split(".")[1] + "."


def signed_by_someone_else(token: str) -> str:
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    kid = citizen.header(token)["kid"]
    return jwt.encode({"alg": "ES256", "kid": kid, "typ": "JWT"}, claims,
                      ECKey.generate_key("P-256"))


# --- oidcc-rp-initiated-logout-certification-test-plan --------------------------------

async def test_oidcc_rp_initiated_logout(world: World) -> None:
    body = await logged_in(world)
    r = await end_session(world, id_token_hint=body["id_token"], post_logout_redirect_uri=BYE,
                          state="xyz")
    assert r.status_code == 303
    assert r.headers["location"] == BYE + "?state=xyz"
    assert not await still_logged_in(world)


async def a_forged_hint_is_an_error_and_ends_nothing(world: World, forge: Any) -> None:
    body = await logged_in(world)
    r = await end_session(world, id_token_hint=forge(body["id_token"]),
                          post_logout_redirect_uri=BYE, state="xyz")
    assert is_error_page(r)
    assert await still_logged_in(world)


async def test_oidcc_rp_initiated_logout_bad_id_token_hint(world: World) -> None:
    await a_forged_hint_is_an_error_and_ends_nothing(world, signed_by_someone_else)


async def test_oidcc_rp_initiated_logout_modified_id_token_hint(world: World) -> None:
    await a_forged_hint_is_an_error_and_ends_nothing(world, alg_none)


async def test_oidcc_rp_initiated_logout_no_id_token_hint(world: World) -> None:
    await logged_in(world)
    r = await end_session(world, client_id="rp-basic", post_logout_redirect_uri=BYE, state="s")
    assert confirms(r)
    assert await still_logged_in(world)
    # The citizen confirms: logged out, and back to the e-service with its state.
    form = {"csrf": citizen.csrf_of(r.text), "client_id": "rp-basic",
            "post_logout_redirect_uri": BYE, "state": "s"}
    done = await world.browser.post("/end_session", data=form)
    assert done.status_code == 303 and done.headers["location"] == BYE + "?state=s"
    assert not await still_logged_in(world)


async def test_oidcc_rp_initiated_logout_no_params(world: World) -> None:
    await logged_in(world)
    r = await end_session(world)
    assert confirms(r)
    assert await still_logged_in(world)


async def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(world: World) -> None:
    body = await logged_in(world)
    r = await end_session(world, id_token_hint=body["id_token"])
    assert r.status_code == 200 and "location" not in r.headers and not confirms(r)
    assert not await still_logged_in(world)


async def test_oidcc_rp_initiated_logout_no_state(world: World) -> None:
    body = await logged_in(world)
    r = await end_session(world, id_token_hint=body["id_token"], post_logout_redirect_uri=BYE)
    assert r.status_code == 303 and r.headers["location"] == BYE


async def test_oidcc_rp_initiated_logout_only_state(world: World) -> None:
    body = await logged_in(world)
    r = await end_session(world, id_token_hint=body["id_token"], state="xyz")
    assert r.status_code == 200 and "location" not in r.headers
    assert not await still_logged_in(world)


async def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(world: World) -> None:
    body = await logged_in(world)
    r = await end_session(world, id_token_hint=body["id_token"],
                          post_logout_redirect_uri="https://evil.example/bye", state="xyz")
    assert is_error_page(r)
    assert await still_logged_in(world)


async def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(
        world: World) -> None:
    body = await logged_in(world)
    for extended in (BYE + "?next=https://evil.example", BYE + "/more", BYE + "#x"):
        r = await end_session(world, id_token_hint=body["id_token"],
                              post_logout_redirect_uri=extended)
        assert is_error_page(r), extended
    assert await still_logged_in(world)


async def test_a_valid_hint_of_another_citizen_only_asks(world: World) -> None:
    async with world.new_browser() as other:
        resp, flow = await citizen.start(other, "rp-basic")
        final = await citizen.pin_login(other, citizen.login_url(resp), PIN_CITIZEN, "1234")
        code = citizen.query_of(final.headers["location"])["code"]
        strangers = (await tokens(world, flow, code))["id_token"]
    await logged_in(world)
    r = await end_session(world, id_token_hint=strangers, post_logout_redirect_uri=BYE)
    assert confirms(r)
    assert await still_logged_in(world)
    assert world.backchannel == []


async def test_an_expired_hint_from_this_session_still_logs_out(world: World) -> None:
    body = await logged_in(world)
    world.node.now = lambda: int(time.time()) + 3600  # type: ignore[method-assign]
    r = await end_session(world, id_token_hint=body["id_token"], post_logout_redirect_uri=BYE)
    assert r.status_code == 303


# --- oidcc-backchannel-rp-initiated-logout-certification-test-plan ---------------------

async def logout_tokens(world: World) -> list[tuple[str, str]]:
    return [(url, parse_qs(body)["logout_token"][0]) for url, body in world.backchannel]


async def test_oidcc_backchannel_rp_initiated_logout(world: World) -> None:
    body = await logged_in(world)
    id_claims = citizen.decode(body["id_token"], await citizen.jwks(world.http))
    r = await end_session(world, id_token_hint=body["id_token"], post_logout_redirect_uri=BYE,
                          state="s")
    assert r.status_code == 303
    ((url, token),) = await logout_tokens(world)
    assert url == "https://rp.test/bcl"
    keys = KeySet.import_key_set((await world.http.get("/jwks")).json())
    claims = validate(token, keys=keys, issuer=world.settings.issuer, client_id="rp-basic",
                      seen=SeenTokens())
    assert claims["sid"] == id_claims["sid"] and claims["sub"] == id_claims["sub"]
    assert citizen.header(token)["kid"] in {k["kid"] for k in (
        await world.http.get("/jwks")).json()["keys"]}
    assert claims["exp"] - claims["iat"] <= 300


async def test_oidcc_backchannel_logout_reaches_every_e_service_of_the_session(
        world: World) -> None:
    body = await logged_in(world, "rp-basic")
    await logged_in(world, "rp-loa3")  # SSO: the same session
    await end_session(world, id_token_hint=body["id_token"])
    urls = sorted(url for url, _ in await logout_tokens(world))
    assert urls == ["https://rp.test/bcl", "https://rp.test/bcl3"]
    assert not list(world.redis.scan_iter("idp:bcl:*"))  # delivered: nothing left queued


async def test_a_replayed_or_tampered_logout_token_is_refused_by_the_demo_validator(
        world: World) -> None:
    body = await logged_in(world)
    await end_session(world, id_token_hint=body["id_token"])
    ((_, token),) = await logout_tokens(world)
    keys = KeySet.import_key_set((await world.http.get("/jwks")).json())
    seen = SeenTokens()
    validate(token, keys=keys, issuer=world.settings.issuer, client_id="rp-basic", seen=seen)
    bad = [
        (token, "rp-basic", seen),  # replayed jti
        (token, "rp-post", SeenTokens()),  # another audience
        (alg_none(token), "rp-basic", SeenTokens()),
        (body["id_token"], "rp-basic", SeenTokens()),  # an ID token is no logout token
    ]
    for candidate, client, memory in bad:
        with pytest.raises(InvalidLogoutToken):
            validate(candidate, keys=keys, issuer=world.settings.issuer, client_id=client,
                     seen=memory)


async def test_a_failed_delivery_stays_queued_and_is_retried(world: World) -> None:
    answers = iter([503, 200])
    original = world.node.http

    def flaky(request: httpx.Request) -> httpx.Response:
        world.backchannel.append((str(request.url), request.content.decode()))
        return httpx.Response(next(answers))

    world.node.http = httpx.AsyncClient(transport=httpx.MockTransport(flaky))
    try:
        body = await logged_in(world)
        await end_session(world, id_token_hint=body["id_token"])
        (key,) = world.redis.scan_iter("idp:bcl:*")
        assert world.redis.hget(key, "attempts") == "1"
        # Due again after the backoff: any node's poller takes it then.
        world.redis.zadd("idp:bcl-queue", {key: 0})
        await backchannel.deliver(world.node, key)
        assert not world.redis.exists(key) and world.redis.zcard("idp:bcl-queue") == 0
        assert len(world.backchannel) == 2
    finally:
        await world.node.http.aclose()
        world.node.http = original


async def test_a_delivery_past_its_time_is_given_up_and_counted(world: World) -> None:
    def expired() -> float:
        return metrics.REGISTRY.get_sample_value(
            "idportal_backchannel_logout_total", {"outcome": "expired"}) or 0.0

    original = world.node.http
    world.node.http = httpx.AsyncClient(transport=httpx.MockTransport(
        lambda request: httpx.Response(500)))
    try:
        body = await logged_in(world)
        await end_session(world, id_token_hint=body["id_token"])
    finally:
        await world.node.http.aclose()
        world.node.http = original
    (key,) = world.redis.scan_iter("idp:bcl:*")
    before = expired()
    world.redis.hset(key, "until", 1)
    world.redis.zadd("idp:bcl-queue", {key: 0})
    await backchannel.deliver(world.node, key)
    assert expired() == before + 1 and not world.redis.exists(key)

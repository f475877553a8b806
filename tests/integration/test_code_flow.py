"""The authorization code flow against a real Redis: codes, tokens, refresh, PKCE."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from service import loa
from tests.conftest import DATA, PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


async def login(world: World, client_id: str = "rp-basic", **kw: str) -> tuple[citizen.Flow, str]:
    return await citizen.bankid_code(world.browser, world.phone, client_id, PNR, **kw)


async def test_reused_code_is_rejected_and_revokes_issued_tokens(world: World) -> None:
    flow, code = await login(world)
    first = await citizen.redeem(world.http, flow, code)
    assert first.status_code == 200
    second = await citizen.redeem(world.http, flow, code)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    ui = await world.http.get("/userinfo", headers={
        "Authorization": "Bearer " + first.json()["access_token"]})
    assert ui.status_code == 401
    refresh = await world.http.post("/token", data={
        "grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        headers=citizen.basic("rp-basic"))
    assert refresh.status_code == 400


async def test_code_with_wrong_verifier_is_refused(world: World) -> None:
    flow, code = await login(world)
    flow.verifier = citizen.pkce()[0]
    r = await citizen.redeem(world.http, flow, code)
    assert r.status_code == 400 and "PKCE" in r.json()["error_description"]


async def test_a_code_that_fails_pkce_is_burnt_with_its_grant(world: World) -> None:
    flow, code = await login(world)
    gid = code.split(".")[0]  # a code names its grant
    assert world.redis.exists(f"idp:grant:{gid}")
    good_verifier, flow.verifier = flow.verifier, citizen.pkce()[0]
    assert (await citizen.redeem(world.http, flow, code)).status_code == 400
    assert not world.redis.exists(f"idp:grant:{gid}")
    flow.verifier = good_verifier  # the right verifier cannot revive it
    r = await citizen.redeem(world.http, flow, code)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


async def test_the_grant_of_an_unredeemed_code_lives_only_as_long_as_the_code(
        world: World) -> None:
    _, code = await login(world)
    ttl = world.redis.ttl(f"idp:grant:{code.split('.')[0]}")
    assert 0 < ttl <= world.settings.lifetimes.authorization_code + 5
    assert world.redis.hget(f"idp:grant:{code.split('.')[0]}", "rt") == ""  # not yet armed


async def test_redeeming_arms_the_grant_until_the_family_expires(world: World) -> None:
    flow, code = await login(world)
    assert (await citizen.redeem(world.http, flow, code)).status_code == 200
    ttl = world.redis.ttl(f"idp:grant:{code.split('.')[0]}")
    assert world.settings.lifetimes.refresh_token - 10 < ttl <= world.settings.lifetimes.refresh_token


async def test_a_code_redeemed_after_its_session_was_logged_out_gives_no_tokens(
        world: World) -> None:
    flow, code = await login(world)
    r = await world.browser.get("/end_session")
    await world.browser.post("/end_session", data={"csrf": citizen.csrf_of(r.text)})
    r = await citizen.redeem(world.http, flow, code)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert "login has ended" in r.json()["error_description"]


async def test_a_forged_code_naming_a_real_grant_is_refused_and_harms_nothing(
        world: World) -> None:
    flow, code = await login(world)
    gid = code.split(".")[0]
    forged = f"{gid}.{'A' * 43}"
    r = await citizen.redeem(world.http, flow, forged)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert (await citizen.redeem(world.http, flow, code)).status_code == 200


async def test_code_without_verifier_is_refused(world: World) -> None:
    flow, code = await login(world)
    r = await world.http.post("/token", data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": flow.redirect_uri},
                              headers=citizen.basic("rp-basic"))
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


async def test_code_used_by_another_client_is_refused(world: World) -> None:
    flow, code = await login(world)
    r = await world.http.post("/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
        "code_verifier": flow.verifier, "client_id": "rp-post", "client_secret": "rp-post-secret"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


async def test_code_with_other_redirect_uri_is_refused(world: World) -> None:
    flow, code = await login(world)
    flow.redirect_uri = "https://rp.test/cb2"
    assert (await citizen.redeem(world.http, flow, code)).status_code == 400


async def test_wrong_client_secret_is_401_and_leaves_the_code_usable(world: World) -> None:
    flow, code = await login(world)
    r = await world.http.post("/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
        "code_verifier": flow.verifier}, headers=citizen.basic("rp-basic", "wrong"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in r.headers
    assert (await citizen.redeem(world.http, flow, code)).status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_family(world: World) -> None:
    flow, code = await login(world)
    t1 = (await citizen.redeem(world.http, flow, code)).json()
    rt1 = t1["refresh_token"]

    async def refresh(rt: str) -> tuple[int, dict[str, str]]:
        r = await world.http.post("/token", data={"grant_type": "refresh_token", "refresh_token": rt},
                                  headers=citizen.basic("rp-basic"))
        return r.status_code, r.json()

    status, t2 = await refresh(rt1)
    assert status == 200 and t2["refresh_token"] != rt1 and "id_token" in t2
    status, _ = await refresh(rt1)  # the rotated-away token again: theft assumed
    assert status == 400
    status, _ = await refresh(t2["refresh_token"])  # the whole family is gone
    assert status == 400


async def test_refresh_token_of_another_client_is_refused(world: World) -> None:
    flow, code = await login(world)
    rt = (await citizen.redeem(world.http, flow, code)).json()["refresh_token"]
    r = await world.http.post("/token", data={"grant_type": "refresh_token", "refresh_token": rt,
                                              "client_id": "rp-post", "client_secret": "rp-post-secret"})
    assert r.status_code == 400
    ok = await world.http.post("/token", data={"grant_type": "refresh_token", "refresh_token": rt},
                               headers=citizen.basic("rp-basic"))
    assert ok.status_code == 200


async def test_refresh_cannot_widen_scope(world: World) -> None:
    flow, code = await login(world, scope="openid")
    rt = (await citizen.redeem(world.http, flow, code)).json()["refresh_token"]
    r = await world.http.post("/token", data={"grant_type": "refresh_token", "refresh_token": rt,
                                              "scope": "openid profile"}, headers=citizen.basic("rp-basic"))
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


async def test_private_key_jwt_client_authenticates_and_assertion_replay_is_refused(world: World) -> None:
    flow, code = await login(world, client_id="rp-jwt")
    key = ECKey.import_key(json.loads((DATA / "rp-jwt-private.json").read_text()))
    now = int(time.time())
    assertion = jwt.encode({"alg": "ES256", "kid": "rp-jwt-1"}, {
        "iss": "rp-jwt", "sub": "rp-jwt", "aud": world.settings.issuer + "/token",
        "jti": "once-1", "exp": now + 60, "iat": now}, key)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
            "code_verifier": flow.verifier,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}
    assert (await world.http.post("/token", data=form)).status_code == 200
    again = await world.http.post("/token", data=form)
    assert again.status_code == 401 and "already used" in again.json()["error_description"]


async def test_assertion_signed_by_another_key_is_refused(world: World) -> None:
    flow, code = await login(world, client_id="rp-jwt")
    key = ECKey.generate_key("P-256", parameters={"kid": "rp-jwt-1"})
    now = int(time.time())
    assertion = jwt.encode({"alg": "ES256", "kid": "rp-jwt-1"}, {
        "iss": "rp-jwt", "sub": "rp-jwt", "aud": world.settings.issuer, "jti": "x",
        "exp": now + 60}, key)
    r = await world.http.post("/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
        "code_verifier": flow.verifier, "client_assertion": assertion,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert r.status_code == 401


async def test_id_token_carries_the_profile_claims_and_rs256_when_configured(world: World) -> None:
    flow, code = await login(world, client_id="rp-post")
    r = await world.http.post("/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
        "code_verifier": flow.verifier, "client_id": "rp-post", "client_secret": "rp-post-secret"})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    tok = r.json()["id_token"]
    assert citizen.header(tok)["alg"] == "RS256"
    claims = citizen.decode(tok, await citizen.jwks(world.http))
    assert claims["acr"] == loa.UNCERTIFIED_LOA3
    assert claims["aud"] == "rp-post" and claims["iss"] == world.settings.issuer
    assert claims["exp"] - claims["iat"] <= 300 and "auth_time" in claims
    assert claims["birthdate"] == "1981-12-18" and claims["given_name"]


async def test_revoked_access_token_stops_working_and_introspects_inactive(world: World) -> None:
    flow, code = await login(world)
    at = (await citizen.redeem(world.http, flow, code)).json()["access_token"]
    intro = await world.http.post("/introspect", data={"token": at}, headers=citizen.basic("rp-basic"))
    assert intro.json()["active"] is True
    other = await world.http.post("/introspect", data={"token": at},
                                  headers=citizen.basic("rp-loa3"))
    assert other.json() == {"active": False}
    assert (await world.http.post("/revoke", data={"token": at},
                                  headers=citizen.basic("rp-basic"))).status_code == 200
    intro = await world.http.post("/introspect", data={"token": at}, headers=citizen.basic("rp-basic"))
    assert intro.json() == {"active": False}
    ui = await world.http.get("/userinfo", headers={"Authorization": f"Bearer {at}"})
    assert ui.status_code == 401 and "invalid_token" in ui.headers["www-authenticate"]


async def test_revoking_a_refresh_token_revokes_the_grant(world: World) -> None:
    flow, code = await login(world)
    body = (await citizen.redeem(world.http, flow, code)).json()
    intro = await world.http.post("/introspect", data={"token": body["refresh_token"]},
                                  headers=citizen.basic("rp-basic"))
    assert intro.json()["active"] is True
    await world.http.post("/revoke", data={"token": body["refresh_token"]},
                          headers=citizen.basic("rp-basic"))
    ui = await world.http.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert ui.status_code == 401


async def test_userinfo_accepts_post_body_token_and_refuses_query_token(world: World) -> None:
    flow, code = await login(world)
    at = (await citizen.redeem(world.http, flow, code)).json()["access_token"]
    r = await world.http.post("/userinfo", data={"access_token": at})
    assert r.status_code == 200
    r = await world.http.get("/userinfo?access_token=" + at)
    assert r.status_code == 401


async def test_refresh_token_family_has_an_absolute_expiry(world: World) -> None:
    flow, code = await login(world)
    await citizen.redeem(world.http, flow, code)
    grant = next(iter(world.redis.scan_iter("idp:grant:*")))
    ttl = world.redis.ttl(grant)
    assert 0 < ttl <= world.settings.lifetimes.refresh_token
    before = ttl
    rt_key = grant  # rotation never extends the family's lifetime
    world.redis.expire(rt_key, 2)
    import asyncio
    await asyncio.sleep(2.2)
    assert not world.redis.exists(rt_key) and before > 2

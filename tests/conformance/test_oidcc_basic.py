"""The OpenID Foundation's oidcc-basic-certification-test-plan (static client,
discovery), mirrored: one test per module, named after the module id, asserting what
the module asserts. Logins go through the BankID simulator's phone API."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.conftest import PIN_CITIZEN, PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
CTRL = re.compile(r"[\x00-\x1f\x7f\"\\]")


async def login(world: World, client_id: str = "rp-basic", pnr: str = PNR,
                **kw: str) -> tuple[citizen.Flow, dict[str, str]]:
    resp, flow = await citizen.start(world.browser, client_id, **kw)
    if citizen.shows_login(resp):
        resp = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), pnr)
    assert resp.status_code == 303, resp.text
    return flow, citizen.query_of(resp.headers["location"])


async def tokens(world: World, flow: citizen.Flow, code: str, *, post: bool = False) -> dict[str, Any]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
            "code_verifier": flow.verifier}
    if post:
        form.update(client_id=flow.client_id, client_secret=flow.client_id + "-secret")
        r = await world.http.post("/token", data=form)
    else:
        r = await world.http.post("/token", data=form, headers=citizen.basic(flow.client_id))
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = dict(r.json())
    assert body["token_type"] == "Bearer"
    return body


async def id_token_checks(world: World, flow: citizen.Flow, token: str, *,
                          nonce: bool = True) -> dict[str, Any]:
    """What every module checks of an ID token (OIDC Core §3.1.3.7)."""
    jwks = (await world.http.get("/jwks")).json()
    kids = {k["kid"] for k in jwks["keys"]}
    header = citizen.header(token)
    assert header["kid"] in kids and header["alg"] in ("ES256", "RS256")
    claims = citizen.decode(token, await citizen.jwks(world.http))
    now = time.time()
    assert claims["iss"] == world.settings.issuer
    assert claims["aud"] == flow.client_id or flow.client_id in claims["aud"]
    assert claims["iat"] <= now + 5 and claims["exp"] > now
    assert claims["exp"] - claims["iat"] <= 300
    assert isinstance(claims["sub"], str) and claims["sub"] and len(claims["sub"]) <= 255
    assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= now + 5
    assert claims["acr"] in world.settings.loa_levels  # the URIs this deployment states
    if nonce:
        assert claims["nonce"] == flow.nonce
    return claims


def authorization_response_checks(world: World, flow: citizen.Flow, q: dict[str, str]) -> None:
    assert q["state"] == flow.state
    assert q["iss"] == world.settings.issuer  # RFC 9207


async def test_oidcc_server(world: World) -> None:
    flow, q = await login(world)
    authorization_response_checks(world, flow, q)
    body = await tokens(world, flow, q["code"])
    await id_token_checks(world, flow, body["id_token"])


@pytest.mark.parametrize(("client", "alg"), [("rp-basic", "ES256"), ("rp-post", "RS256")])
async def test_oidcc_idtoken_signature(world: World, client: str, alg: str) -> None:
    flow, q = await login(world, client)
    body = await tokens(world, flow, q["code"], post=client == "rp-post")
    assert citizen.header(body["id_token"])["alg"] == alg
    await id_token_checks(world, flow, body["id_token"])


async def test_oidcc_alternate_happy_flow(world: World) -> None:
    flow, q = await login(world)
    first = await id_token_checks(world, flow, (await tokens(world, flow, q["code"]))["id_token"])
    async with world.new_browser() as other:
        world.browser, saved = other, world.browser
        try:
            flow2, q2 = await login(world, pnr="198112180040")
            second = await id_token_checks(world, flow2,
                                           (await tokens(world, flow2, q2["code"]))["id_token"])
        finally:
            world.browser = saved
    assert first["sub"] != second["sub"]


async def test_oidcc_response_type_missing(world: World) -> None:
    params, flow = citizen.authorize_params("rp-basic")
    del params["response_type"]
    r = await world.browser.get("/authorize?" + urlencode(params))
    q = citizen.query_of(r.headers["location"])
    assert q["error"] == "invalid_request" and q["state"] == flow.state


async def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(world: World) -> None:
    params, flow = citizen.authorize_params("rp-basic")
    del params["nonce"]
    r = await world.browser.get("/authorize?" + urlencode(params))
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(r), PNR)
    body = await tokens(world, flow, citizen.query_of(final.headers["location"])["code"])
    claims = await id_token_checks(world, flow, body["id_token"], nonce=False)
    assert "nonce" not in claims


async def test_oidcc_ensure_request_with_unknown_parameter_succeeds(world: World) -> None:
    flow, q = await login(world, extra_param="ignored-by-the-op")
    await tokens(world, flow, q["code"])


async def test_oidcc_ensure_post_request_succeeds(world: World) -> None:
    params, flow = citizen.authorize_params("rp-basic")
    r = await world.browser.post("/authorize", data=params)
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(r), PNR)
    await tokens(world, flow, citizen.query_of(final.headers["location"])["code"])


async def test_oidcc_ensure_request_with_valid_pkce_succeeds(world: World) -> None:
    flow, q = await login(world)
    body = await tokens(world, flow, q["code"])
    assert body["access_token"]


async def _access_token(world: World, **kw: str) -> tuple[citizen.Flow, dict[str, Any]]:
    flow, q = await login(world, **kw)
    return flow, await tokens(world, flow, q["code"])


async def test_oidcc_userinfo_get(world: World) -> None:
    _, body = await _access_token(world)
    r = await world.http.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    claims = citizen.decode(body["id_token"], await citizen.jwks(world.http))
    assert r.json()["sub"] == claims["sub"]


async def test_oidcc_userinfo_post_header(world: World) -> None:
    _, body = await _access_token(world)
    r = await world.http.post("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert r.status_code == 200 and r.json()["sub"]


async def test_oidcc_userinfo_post_body(world: World) -> None:
    _, body = await _access_token(world)
    r = await world.http.post("/userinfo", data={"access_token": body["access_token"]})
    assert r.status_code == 200 and r.json()["sub"]


async def test_oidcc_scope_profile(world: World) -> None:
    _, body = await _access_token(world, scope="openid profile")
    info = (await world.http.get("/userinfo", headers={
        "Authorization": "Bearer " + body["access_token"]})).json()
    for claim in ("given_name", "family_name", "name", "birthdate"):
        assert info[claim]
    assert "https://id.oidc.se/claim/personalIdentityNumber" not in info


async def test_oidcc_scope_natural_person_number(world: World) -> None:
    """The Swedish profile's scope (oidc.se), the national counterpart of scope-all."""
    _, body = await _access_token(world, scope="openid https://id.oidc.se/scope/naturalPersonNumber")
    info = (await world.http.get("/userinfo", headers={
        "Authorization": "Bearer " + body["access_token"]})).json()
    assert info["https://id.oidc.se/claim/personalIdentityNumber"] == PNR
    assert "given_name" not in info


async def test_oidcc_claims_essential(world: World) -> None:
    claims = json.dumps({"userinfo": {"name": {"essential": True}}})
    _, body = await _access_token(world, scope="openid", claims=claims)
    info = (await world.http.get("/userinfo", headers={
        "Authorization": "Bearer " + body["access_token"]})).json()
    assert info["name"]


async def test_oidcc_prompt_login(world: World) -> None:
    flow, q = await login(world)
    first = await id_token_checks(world, flow, (await tokens(world, flow, q["code"]))["id_token"])
    await asyncio.sleep(1.1)
    resp, flow2 = await citizen.start(world.browser, "rp-basic", prompt="login")
    assert citizen.shows_login(resp)  # a new login, not SSO
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    code = citizen.query_of(final.headers["location"])["code"]
    second = await id_token_checks(world, flow2, (await tokens(world, flow2, code))["id_token"])
    assert second["auth_time"] > first["auth_time"]


async def test_oidcc_prompt_none_not_logged_in(world: World) -> None:
    resp, flow = await citizen.start(world.browser, "rp-basic", prompt="none")
    q = citizen.query_of(resp.headers["location"])
    assert q["error"] == "login_required" and q["state"] == flow.state and q["iss"]


async def test_oidcc_prompt_none_logged_in(world: World) -> None:
    await login(world)
    resp, flow = await citizen.start(world.browser, "rp-basic", prompt="none")
    q = citizen.query_of(resp.headers["location"])
    await id_token_checks(world, flow, (await tokens(world, flow, q["code"]))["id_token"])


async def test_oidcc_max_age_1(world: World) -> None:
    flow, q = await login(world)
    first = await id_token_checks(world, flow, (await tokens(world, flow, q["code"]))["id_token"])
    await asyncio.sleep(2.1)
    resp, flow2 = await citizen.start(world.browser, "rp-basic", max_age="1")
    assert citizen.shows_login(resp)
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    code = citizen.query_of(final.headers["location"])["code"]
    second = await id_token_checks(world, flow2, (await tokens(world, flow2, code))["id_token"])
    assert second["auth_time"] > first["auth_time"]


async def test_oidcc_max_age_10000(world: World) -> None:
    flow, q = await login(world)
    first = await id_token_checks(world, flow, (await tokens(world, flow, q["code"]))["id_token"])
    resp, flow2 = await citizen.start(world.browser, "rp-basic", max_age="10000")
    q2 = citizen.query_of(resp.headers["location"])
    second = await id_token_checks(world, flow2, (await tokens(world, flow2, q2["code"]))["id_token"])
    assert second["auth_time"] == first["auth_time"]


async def test_oidcc_id_token_hint(world: World) -> None:
    flow, q = await login(world)
    first = await id_token_checks(world, flow, (await tokens(world, flow, q["code"]))["id_token"])
    body = await tokens(world, *(await _second(world)))
    resp, flow3 = await citizen.start(world.browser, "rp-basic", prompt="none",
                                      id_token_hint=body["id_token"])
    q3 = citizen.query_of(resp.headers["location"])
    third = await id_token_checks(world, flow3, (await tokens(world, flow3, q3["code"]))["id_token"])
    assert third["sub"] == first["sub"]


async def _second(world: World) -> tuple[citizen.Flow, str]:
    resp, flow = await citizen.start(world.browser, "rp-basic", prompt="none")
    return flow, citizen.query_of(resp.headers["location"])["code"]


async def test_oidcc_login_hint(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", login_hint=PIN_CITIZEN)
    tx = citizen.TX.search(citizen.login_url(resp))
    assert tx
    page = await world.browser.get(f"/login/{tx.group(1)}/pin")
    assert f'value="{PIN_CITIZEN}"' in page.text


async def test_oidcc_ui_locales(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", ui_locales="en")
    page = resp
    assert citizen.shows_login(page)
    assert 'lang="en"' in page.text and "Log in" in page.text


async def test_oidcc_ensure_request_with_acr_values_succeeds(world: World) -> None:
    acr = " ".join(reversed(world.settings.loa_levels))  # loa3 then loa2, as stated here
    flow, q = await login(world, acr_values=acr)
    claims = await id_token_checks(world, flow, (await tokens(world, flow, q["code"]))["id_token"])
    assert claims["acr"] in acr.split()


async def _codereuse(world: World, wait: float) -> None:
    flow, q = await login(world)
    body = await tokens(world, flow, q["code"])
    await asyncio.sleep(wait)
    r = await world.http.post("/token", data={
        "grant_type": "authorization_code", "code": q["code"], "redirect_uri": flow.redirect_uri,
        "code_verifier": flow.verifier}, headers=citizen.basic("rp-basic"))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert not CTRL.search(r.json()["error_description"])
    # The module also allows (and we do) revoking the access token of the first use.
    ui = await world.http.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert ui.status_code == 401


async def test_oidcc_codereuse(world: World) -> None:
    await _codereuse(world, 0)


async def test_oidcc_codereuse_30seconds(world: World) -> None:
    await _codereuse(world, 30)


async def test_oidcc_ensure_registered_redirect_uri(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", redirect_uri="https://rp.test/unregistered")
    assert resp.status_code == 400 and "location" not in resp.headers
    assert resp.headers["x-request-id"] in resp.text


async def test_oidcc_server_client_secret_post(world: World) -> None:
    flow, q = await login(world, "rp-post")
    body = await tokens(world, flow, q["code"], post=True)
    await id_token_checks(world, flow, body["id_token"])


async def test_oidcc_refresh_token(world: World) -> None:
    flow, q = await login(world)
    first = await tokens(world, flow, q["code"])
    original = await id_token_checks(world, flow, first["id_token"])
    r = await world.http.post("/token", data={"grant_type": "refresh_token",
                                              "refresh_token": first["refresh_token"]},
                              headers=citizen.basic("rp-basic"))
    assert r.status_code == 200
    refreshed = citizen.decode(r.json()["id_token"], await citizen.jwks(world.http))
    for claim in ("iss", "sub", "aud", "auth_time", "acr"):
        assert refreshed[claim] == original[claim]
    assert "nonce" not in refreshed  # OIDC Core §12.2
    ui = await world.http.get("/userinfo", headers={"Authorization": "Bearer " + r.json()["access_token"]})
    assert ui.status_code == 200


async def test_oidcc_unsigned_request_object_is_rejected(world: World) -> None:
    # alg none: refused (request objects must be signed), back to the query's redirect URI.
    resp, flow = await citizen.start(world.browser, "rp-basic", request="eyJhbGciOiJub25lIn0.e30.")
    q = citizen.query_of(resp.headers["location"])
    assert q["error"] == "invalid_request_object" and q["state"] == flow.state


async def test_oidcc_discovery_endpoint_verification(world: World) -> None:
    r = await world.http.get("/.well-known/openid-configuration")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    d = r.json()
    assert d["issuer"] == world.settings.issuer
    for ep in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
               "end_session_endpoint", "revocation_endpoint", "introspection_endpoint"):
        assert urlsplit(d[ep]).scheme == "https" and d[ep].startswith(d["issuer"])
    assert "openid" in d["scopes_supported"]
    assert "code" in d["response_types_supported"]
    assert "public" in d["subject_types_supported"]
    assert "RS256" in d["id_token_signing_alg_values_supported"]
    assert "none" not in d["id_token_signing_alg_values_supported"]
    assert {"sub", "iss", "auth_time", "acr"} <= set(d["claims_supported"])
    assert d["acr_values_supported"] and d["code_challenge_methods_supported"] == ["S256"]
    assert set(d["token_endpoint_auth_methods_supported"]) >= {"client_secret_basic",
                                                               "client_secret_post", "private_key_jwt"}
    jwks = (await world.http.get(d["jwks_uri"].replace(d["issuer"], ""))).json()
    for k in jwks["keys"]:
        assert k["use"] == "sig" and k["kid"] and "d" not in k

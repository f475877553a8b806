"""Pairwise subjects through the endpoints: e-services of one sector (the test clients on
rp.test) see a citizen under one ``sub``, in the ID token, at userinfo and at
introspection; an e-service of another sector (other.test) under another; discovery
says both kinds are supported."""

from __future__ import annotations

import pytest

from tests.conftest import PIN_CITIZEN, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


async def sub_for(world: World, client_id: str, *, redirect_uri: str = "https://rp.test/cb",
                  first: bool = False) -> tuple[str, str]:
    """The ID token's and userinfo's sub for ``client_id`` (logging in first, else SSO)."""
    resp, flow = await citizen.start(world.browser, client_id, redirect_uri=redirect_uri)
    if first:
        resp = await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    assert resp.status_code == 303, resp.text[:200]
    code = citizen.query_of(resp.headers["location"])["code"]
    if client_id == "rp-post":  # client_secret_post
        tokens = (await world.http.post("/token", data={
            **citizen.protocol.code_form(flow, code), "client_id": client_id,
            "client_secret": client_id + "-secret"})).json()
    else:
        tokens = (await citizen.redeem(world.http, flow, code)).json()
    claims = citizen.decode(tokens["id_token"], await citizen.jwks(world.http))
    info = (await world.http.get("/userinfo", headers={
        "Authorization": "Bearer " + tokens["access_token"]})).json()
    return str(claims["sub"]), str(info["sub"])


async def test_e_services_of_one_sector_share_a_subject_and_another_sector_does_not(
        world: World) -> None:
    basic = await sub_for(world, "rp-basic", first=True)
    post = await sub_for(world, "rp-post")
    other = await sub_for(world, "rp-noclaims", redirect_uri="https://other.test/cb")
    assert basic[0] == basic[1] and post[0] == post[1] and other[0] == other[1]
    assert basic[0] == post[0]  # rp-basic and rp-post: one sector (rp.test)
    assert other[0] != basic[0]  # rp-noclaims: another (other.test)
    assert PIN_CITIZEN not in basic[0] + other[0]


async def test_introspection_names_the_subject_its_e_service_sees(world: World) -> None:
    resp, flow = await citizen.start(world.browser, "rp-basic")
    final = await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    tokens = (await citizen.redeem(world.http, flow, citizen.query_of(
        final.headers["location"])["code"])).json()
    claims = citizen.decode(tokens["id_token"], await citizen.jwks(world.http))
    seen = (await world.http.post("/introspect", data={"token": tokens["refresh_token"]},
                                  headers=citizen.basic("rp-basic"))).json()
    assert seen["active"] and seen["sub"] == claims["sub"]


async def test_discovery_offers_pairwise_and_public_subjects(world: World) -> None:
    meta = (await world.http.get("/.well-known/openid-configuration")).json()
    assert set(meta["subject_types_supported"]) == {"pairwise", "public"}

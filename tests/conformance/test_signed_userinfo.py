"""Signed userinfo (OIDC Core §5.3.2): an e-service registered with
``userinfo_signed_response_alg`` gets its userinfo as a JWT signed with that algorithm,
with ``iss`` and ``aud``, verifiable with the JWKS; every other e-service plain JSON."""

from __future__ import annotations

import pytest

from tests.conftest import PIN_CITIZEN, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


async def tokens_for(world: World, client_id: str) -> dict[str, str]:
    resp, flow = await citizen.start(world.browser, client_id)
    final = await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    code = citizen.query_of(final.headers["location"])["code"]
    return dict((await citizen.redeem(world.http, flow, code)).json())


async def test_signed_userinfo_is_a_jwt_with_iss_aud_and_the_same_sub(world: World) -> None:
    tokens = await tokens_for(world, "rp-signed")
    resp = await world.http.get("/userinfo", headers={
        "Authorization": "Bearer " + tokens["access_token"]})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/jwt")
    assert resp.headers["cache-control"] == "no-store"
    keys = await citizen.jwks(world.http)
    assert citizen.header(resp.text)["alg"] == "RS256"
    claims = citizen.decode(resp.text, keys)
    id_token = citizen.decode(tokens["id_token"], keys)
    assert claims["iss"] == world.settings.issuer and claims["aud"] == "rp-signed"
    assert claims["sub"] == id_token["sub"] and claims["given_name"]


async def test_an_e_service_not_registered_for_it_gets_plain_json(world: World) -> None:
    tokens = await tokens_for(world, "rp-basic")
    resp = await world.http.get("/userinfo", headers={
        "Authorization": "Bearer " + tokens["access_token"]})
    assert resp.headers["content-type"].startswith("application/json") and resp.json()["sub"]


async def test_discovery_lists_the_userinfo_signing_algorithms(world: World) -> None:
    meta = (await world.http.get("/.well-known/openid-configuration")).json()
    assert {"ES256", "RS256"} <= set(meta["userinfo_signing_alg_values_supported"])


def test_the_clients_file_refuses_an_unknown_userinfo_algorithm() -> None:
    from service.oidc import clients

    with pytest.raises(clients.ClientsError, match="userinfo_signed_response_alg"):
        clients.parse('[[client]]\nclient_id = "x"\nsecret_sha256 = "' + "0" * 64 + '"\n'
                      'redirect_uris = ["https://x.example/cb"]\n'
                      'userinfo_signed_response_alg = "none"\n')

"""Request objects by value (OIDC Core §6.1, the Swedish OIDC profile), named after the
OpenID Foundation's modules where they have one: a signed object is honoured (its
parameters win over the query's, its ``claims`` too), whatever is unsigned, signed by
another key, for another audience or from another issuer is ``invalid_request_object``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from citizen import protocol
from tests.conftest import PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
DATA = Path(__file__).resolve().parents[1] / "data"
EC = ECKey.import_key(json.loads((DATA / "rp-jwt-private.json").read_text()))
RSA = RSAKey.import_key(json.loads((DATA / "rp-jwt-rsa-private.json").read_text()))


def signed(world: World, inside: dict[str, Any], *, key: Any = EC, alg: str = "ES256",
           kid: str = "rp-jwt-1", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": "rp-jwt", "aud": world.settings.issuer, "iat": now, "exp": now + 60,
            **inside, **claims}
    return jwt.encode({"alg": alg, "kid": kid, "typ": "oauth-authz-req+jwt"}, body, key)


def request_params(flow: protocol.Flow) -> dict[str, Any]:
    """What an e-service puts in the object: the whole authorization request."""
    params, _ = protocol.authorize(flow.client_id, flow.redirect_uri)
    verifier, challenge = protocol.pkce()
    flow.verifier = verifier
    return {**params, "state": flow.state, "nonce": flow.nonce, "code_challenge": challenge}


async def authorize(world: World, request: str, **query: str) -> Any:
    params = {"client_id": "rp-jwt", "response_type": "code", "scope": "openid",
              "request": request, **query}
    return await world.browser.get("/authorize?" + urlencode(params))


async def redeem(world: World, flow: protocol.Flow, code: str) -> dict[str, Any]:
    form = {**protocol.code_form(flow, code),
            **protocol.client_assertion("rp-jwt", world.settings.issuer + "/token", EC)}
    r = await world.http.post("/token", data=form)
    assert r.status_code == 200, r.text
    return dict(r.json())


def new_flow() -> protocol.Flow:
    return protocol.Flow("rp-jwt", "https://rp.test/cb", "", "inner-state", "inner-nonce")


@pytest.mark.parametrize(("key", "alg", "kid"), [(EC, "ES256", "rp-jwt-1"),
                                                (RSA, "RS256", "rp-jwt-rsa")])
async def test_oidcc_request_object_signed_is_honoured_with_its_claims(
        world: World, key: Any, alg: str, kid: str) -> None:
    flow = new_flow()
    inside = {**request_params(flow),
              "claims": {"id_token": {"given_name": {"essential": True}}}}
    resp = await authorize(world, signed(world, inside, key=key, alg=alg, kid=kid),
                           state="outer-state", redirect_uri="https://rp.test/cb2")
    assert citizen.shows_login(resp), resp.text[:300]
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    assert final.status_code == 303
    back = citizen.query_of(final.headers["location"])
    # The object's parameters won: its redirect URI, its state, its nonce.
    assert final.headers["location"].startswith("https://rp.test/cb?")
    assert back["state"] == "inner-state"
    claims = citizen.decode((await redeem(world, flow, back["code"]))["id_token"],
                            await citizen.jwks(world.http))
    assert claims["nonce"] == "inner-nonce" and claims["given_name"]


async def test_oidcc_ensure_request_object_with_redirect_uri(world: World) -> None:
    # The redirect URI only inside the object: the answer still goes there.
    flow = new_flow()
    resp = await authorize(world, signed(world, request_params(flow)))
    assert citizen.shows_login(resp)


@pytest.mark.parametrize(("change", "why"), [
    ({"aud": "https://another.example"}, "aud"),
    ({"iss": "rp-basic"}, "iss"),
    ({"exp": 1}, "expired"),
    ({"nbf": int(time.time()) + 3600}, "not valid yet"),
    ({"client_id": "rp-basic"}, "client_id"),
])
async def test_a_request_object_with_a_wrong_claim_is_rejected(
        world: World, change: dict[str, Any], why: str) -> None:
    flow = new_flow()
    resp = await authorize(world, signed(world, request_params(flow), **change),
                           redirect_uri="https://rp.test/cb", state="outer")
    q = citizen.query_of(resp.headers["location"])
    assert q["error"] == "invalid_request_object" and why in q["error_description"]
    assert q["state"] == "outer"


async def test_a_request_object_signed_by_another_key_is_rejected(world: World) -> None:
    flow = new_flow()
    stranger = ECKey.generate_key("P-256", parameters={"kid": "rp-jwt-1"})
    resp = await authorize(world, signed(world, request_params(flow), key=stranger),
                           redirect_uri="https://rp.test/cb")
    q = citizen.query_of(resp.headers["location"])
    assert q["error"] == "invalid_request_object" and "signature" in q["error_description"]


async def test_a_request_object_signed_with_hmac_is_rejected(world: World) -> None:
    from joserfc.jwk import OctKey

    flow = new_flow()
    secret = OctKey.import_key("rp-jwt-secret-of-32-bytes-or-more!!")
    token = jwt.encode({"alg": "HS256"}, {"iss": "rp-jwt", "aud": world.settings.issuer,
                                          **request_params(flow)}, secret)
    resp = await authorize(world, token, redirect_uri="https://rp.test/cb")
    assert citizen.query_of(resp.headers["location"])["error"] == "invalid_request_object"


async def test_a_client_without_registered_keys_cannot_send_request_objects(
        world: World) -> None:
    resp = await world.browser.get("/authorize?" + urlencode({
        "client_id": "rp-basic", "response_type": "code", "scope": "openid",
        "redirect_uri": "https://rp.test/cb", "request": signed(world, {})}))
    q = citizen.query_of(resp.headers["location"])
    assert q["error"] == "invalid_request_object" and "no registered key" in q["error_description"]


async def test_a_bad_request_object_with_an_unregistered_redirect_uri_never_redirects(
        world: World) -> None:
    resp = await authorize(world, "eyJhbGciOiJub25lIn0.e30.", redirect_uri="https://evil.example/")
    assert resp.status_code == 400 and "location" not in resp.headers


async def test_request_uri_is_refused_as_not_supported(world: World) -> None:
    resp = await world.browser.get("/authorize?" + urlencode({
        "client_id": "rp-jwt", "response_type": "code", "scope": "openid",
        "redirect_uri": "https://rp.test/cb", "state": "s",
        "request_uri": "https://rp.test/req.jwt"}))
    q = citizen.query_of(resp.headers["location"])
    assert q["error"] == "request_uri_not_supported" and q["state"] == "s"


async def test_discovery_offers_request_objects_by_value_only(world: World) -> None:
    meta = (await world.http.get("/.well-known/openid-configuration")).json()
    assert meta["request_parameter_supported"] is True
    assert meta["request_uri_parameter_supported"] is False
    assert set(meta["request_object_signing_alg_values_supported"]) == {"ES256", "RS256"}

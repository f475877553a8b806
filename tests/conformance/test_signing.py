"""The oidc.se Signature Extension with BankID: an e-service asks the citizen to sign; the
message is shown and signed in the app (BankID /sign), the data to be signed goes along
unseen, and the ID token carries the XML signature, verifiable against the simulator's
root. Everything the extension lists is checked; a signing is never reused."""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from lxml import etree
from signxml.verifier import XMLVerifier

from citizen import protocol
from service.oidc import sign_request
from tests.conftest import PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
DATA = Path(__file__).resolve().parents[1] / "data"
KEY = ECKey.import_key(json.loads((DATA / "rp-jwt-private.json").read_text()))
NS = "{http://www.bankid.com/signature/v1.0.0/types}"
TEXT = "Jag ansöker om bygglov för Storgatan 1"
TBS = base64.b64encode(hashlib.sha256(b"the application, as a PDF").digest()).decode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def sign_params(*, tbs: str = TBS, mime: str = "text/plain") -> dict[str, Any]:
    return {"tbs_data": tbs, "sign_message": {"message#sv": b64(TEXT),
                                              "message#en": b64("I apply for a permit"),
                                              "mime_type": mime}}


def request_object(world: World, flow: protocol.Flow, challenge: str, *,
                   scope: str = sign_request.SCOPE_SIGN, prompt: str = "login consent",
                   sign: dict[str, Any] | None = None, pnr: str = PNR) -> str:
    now = int(time.time())
    return jwt.encode({"alg": "ES256", "kid": "rp-jwt-1"}, {
        "iss": "rp-jwt", "aud": world.settings.issuer, "iat": now, "exp": now + 60,
        "client_id": "rp-jwt", "response_type": "code", "scope": f"openid {scope}",
        "redirect_uri": flow.redirect_uri, "state": flow.state, "nonce": flow.nonce,
        "code_challenge": challenge, "code_challenge_method": "S256", "prompt": prompt,
        "claims": {"id_token": {"https://id.oidc.se/claim/personalIdentityNumber": {
            "essential": True, "value": pnr}}},
        sign_request.PARAM: sign if sign is not None else sign_params()}, KEY)


async def ask_to_sign(world: World, **kw: Any) -> tuple[Any, protocol.Flow]:
    verifier, challenge = protocol.pkce()
    flow = protocol.Flow("rp-jwt", "https://rp.test/cb", verifier, "st", "nn")
    resp = await world.browser.get("/authorize?" + urlencode({
        "client_id": "rp-jwt", "response_type": "code", "scope": "openid",
        "request": request_object(world, flow, challenge, **kw)}))
    return resp, flow


async def redeem(world: World, flow: protocol.Flow, code: str) -> dict[str, Any]:
    form = {**protocol.code_form(flow, code),
            **protocol.client_assertion("rp-jwt", world.settings.issuer + "/token", KEY)}
    r = await world.http.post("/token", data=form)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_citizen_signs_and_the_id_token_carries_a_verifiable_signature(
        world: World) -> None:
    resp, flow = await ask_to_sign(world)
    # The citizen is named: the text is shown only in the app, once BankID matched them.
    assert citizen.shows_login(resp) and TEXT not in resp.text
    assert "Texten visas i BankID-appen" in resp.text
    assert "/pin" not in resp.text.split('class="methods"')[1]  # only BankID signs
    login = citizen.login_url(resp)
    page = await world.browser.post(login + "/bankid/start", data={
        "csrf": citizen.csrf_of(resp.text), "device": "same"})
    assert TEXT not in page.text
    app = await world.phone.post("/phone/open", json={
        "autoStartToken": protocol.autostart_token(page.text), "personalNumber": PNR})
    assert app.json()["userVisibleData"] == TEXT
    final = await world.browser.post(login + "/bankid/collect", data={
        "csrf": citizen.csrf_of(page.text)}, headers={"Accept": "application/json"})
    assert final.json()["status"] == "complete", final.text
    final = httpx.Response(303, headers={"location": final.json()["next"]})
    assert (await world.phone.get("/control/stats")).json()["sign"] == 1
    tokens = await redeem(world, flow, citizen.query_of(final.headers["location"])["code"])
    claims = citizen.decode(tokens["id_token"], await citizen.jwks(world.http))
    assert claims["auth_time"] and claims["acr"]
    xml = base64.b64decode(claims[sign_request.CLAIM])
    with tempfile.NamedTemporaryFile(suffix=".pem") as ca:
        ca.write((await world.phone.get("/ca.pem")).content)
        ca.flush()
        signed = XMLVerifier().verify(xml, ca_pem_file=ca.name).signed_xml
    data = signed.find(f"{NS}bankIdSignedData")
    assert data is not None
    assert base64.b64decode(data.findtext(f"{NS}usrVisibleData") or "").decode() == TEXT
    assert data.findtext(f"{NS}usrNonVisibleData") == TBS
    assert data.findtext(f"{NS}clientInfo/{NS}funcId") == "Signing"
    cert = etree.fromstring(xml).findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    assert cert  # the citizen's certificate (and the root) in KeyInfo


async def test_a_signing_is_never_reused(world: World) -> None:
    resp, flow = await ask_to_sign(world)
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    tokens = await redeem(world, flow, citizen.query_of(final.headers["location"])["code"])
    # SSO afterwards and a refresh: no signature in either ID token.
    again, flow2 = await citizen.start(world.browser, "rp-jwt", prompt="none")
    sso = await redeem(world, flow2, citizen.query_of(again.headers["location"])["code"])
    keys = await citizen.jwks(world.http)
    assert sign_request.CLAIM not in citizen.decode(sso["id_token"], keys)
    refreshed = await world.http.post("/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        **protocol.client_assertion("rp-jwt", world.settings.issuer + "/token", KEY)})
    assert sign_request.CLAIM not in citizen.decode(refreshed.json()["id_token"], keys)


async def test_the_app_refuses_another_person_than_the_one_the_e_service_named(
        world: World) -> None:
    resp, _ = await ask_to_sign(world, pnr="194001011008")
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    assert final.status_code != 303 and final.json()["status"] == "failed"


async def test_a_text_to_sign_for_anyone_is_shown_on_the_page(world: World) -> None:
    verifier, challenge = protocol.pkce()
    flow = protocol.Flow("rp-jwt", "https://rp.test/cb", verifier, "st", "nn")
    now = int(time.time())
    obj = jwt.encode({"alg": "ES256", "kid": "rp-jwt-1"}, {
        "iss": "rp-jwt", "aud": world.settings.issuer, "iat": now, "exp": now + 60,
        "client_id": "rp-jwt", "response_type": "code",
        "scope": f"openid {sign_request.SCOPE_SIGN}", "redirect_uri": flow.redirect_uri,
        "state": "s", "nonce": "n", "code_challenge": challenge,
        "code_challenge_method": "S256", "prompt": "login consent",
        sign_request.PARAM: sign_params()}, KEY)
    resp = await world.browser.get("/authorize?" + urlencode({
        "client_id": "rp-jwt", "response_type": "code", "scope": "openid", "request": obj}))
    assert citizen.shows_login(resp) and TEXT in resp.text  # nobody named: nothing to hide


async def test_a_sign_request_as_a_jwt_of_its_own(world: World) -> None:
    _, challenge = protocol.pkce()
    now = int(time.time())
    sign_jwt = jwt.encode({"alg": "ES256", "kid": "rp-jwt-1"}, {
        "iss": "rp-jwt", "aud": world.settings.issuer, "iat": now, "exp": now + 60,
        **sign_params()}, KEY)
    resp = await world.browser.get("/authorize?" + urlencode({
        "client_id": "rp-jwt", "response_type": "code", "redirect_uri": "https://rp.test/cb",
        "scope": f"openid {sign_request.SCOPE_SIGN}", "prompt": "login consent",
        "state": "s", "nonce": "n", "code_challenge": challenge,
        "code_challenge_method": "S256", sign_request.PARAM: sign_jwt}))
    assert citizen.shows_login(resp) and TEXT in resp.text  # nobody named in this one


@pytest.mark.parametrize(("change", "error", "why"), [
    ({"prompt": "login"}, "invalid_request", "login consent"),
    ({"sign": {"sign_message": {"message": b64(TEXT)}}}, "invalid_request", "tbs_data"),
    ({"sign": sign_params(mime="text/html")}, "invalid_request", "mime_type"),
    ({"sign": {"tbs_data": TBS}}, "invalid_request", "sign_message"),
    ({"sign": sign_params(tbs=base64.b64encode(b"x" * 600).decode())}, "invalid_request",
     "digest"),
    ({"scope": sign_request.SCOPE_APPROVAL}, "invalid_request", "signApproval"),
])
async def test_a_bad_sign_request_is_refused(world: World, change: dict[str, Any],
                                             error: str, why: str) -> None:
    resp, flow = await ask_to_sign(world, **change)
    q = citizen.query_of(resp.headers["location"])
    assert q["error"] == error and why in q["error_description"] and q["state"] == flow.state


async def test_an_e_service_not_configured_to_sign_is_unauthorized(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", prompt="login consent",
                                     scope=f"openid {sign_request.SCOPE_SIGN}",
                                     **{sign_request.PARAM: json.dumps(sign_params())})
    assert citizen.query_of(resp.headers["location"])["error"] == "unauthorized_client"


async def test_discovery_lists_the_signing_scopes_and_claim(world: World) -> None:
    meta = (await world.http.get("/.well-known/openid-configuration")).json()
    assert {sign_request.SCOPE_SIGN, sign_request.SCOPE_APPROVAL} <= set(meta["scopes_supported"])
    assert sign_request.CLAIM in meta["claims_supported"]

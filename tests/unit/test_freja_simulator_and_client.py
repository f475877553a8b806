"""The Freja eID simulator speaks Freja's API (one base64 field per body, either
alphabet, the status sequence, error codes, signed results), and the node's client
believes a result only when Freja's key signed it for that very authentication."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from joserfc import jws

from service.errors import FrejaError
from service.providers import freja_client
from simulators.freja.app import create_app, make_signing_key

ANNA = "198112189876"
API = "/authentication/1.0"


def field(name: str, data: dict[str, Any], *, urlsafe: bool = False, pad: bool = True) -> str:
    raw = json.dumps(data).encode()
    value = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()
    return f"{name}={value if pad else value.rstrip('=')}"


def init_body(ssn: str = "", level: str = "PLUS") -> dict[str, Any]:
    return {"userInfoType": "SSN" if ssn else "INFERRED",
            "userInfo": base64.b64encode(json.dumps({"country": "SE", "ssn": ssn}).encode()
                                         ).decode() if ssn else "N/A",
            "minRegistrationLevel": level,
            "attributesToReturn": [{"attribute": a} for a in freja_client.ATTRIBUTES]}


@pytest.fixture
async def sim() -> Any:
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                 base_url="http://freja.test") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def post(sim: httpx.AsyncClient, path: str, body: str, *, form: bool = False
               ) -> httpx.Response:
    if form:  # form-encoded, as most HTTP clients send it
        name, _, value = body.partition("=")
        return await sim.post(f"{API}/{path}", data={name: value})
    return await sim.post(f"{API}/{path}", content=body, headers={"Content-Type": "text/plain"})


async def result(sim: httpx.AsyncClient, ref: str) -> dict[str, Any]:
    r = await post(sim, "getOneResult", field("getOneAuthResultRequest", {"authRef": ref}))
    return dict(r.json())


@pytest.mark.parametrize(("urlsafe", "pad", "form"), [
    (False, True, False), (True, False, False), (False, True, True), (True, False, True)])
async def test_bodies_in_either_alphabet_with_or_without_padding_are_accepted(
        sim: httpx.AsyncClient, urlsafe: bool, pad: bool, form: bool) -> None:
    r = await post(sim, "initAuthentication",
                   field("initAuthRequest", init_body(ANNA), urlsafe=urlsafe, pad=pad), form=form)
    assert r.status_code == 200 and r.json()["authRef"]


async def test_an_authentication_goes_started_delivered_approved_with_a_signed_result(
        sim: httpx.AsyncClient) -> None:
    ref = (await post(sim, "initAuthentication", field("initAuthRequest", init_body()))).json()[
        "authRef"]
    assert (await result(sim, ref))["status"] == "STARTED"
    link = freja_client.app_link(ref)
    scanned = await sim.post("/phone/scan", json={"link": link, "ssn": ANNA})
    assert scanned.json()["status"] == "DELIVERED_TO_MOBILE"
    assert (await result(sim, ref))["status"] == "DELIVERED_TO_MOBILE"
    await sim.post("/phone/approve", json={"authRef": ref})
    done = await result(sim, ref)
    key = freja_client.ResultKey.load(sim.app.state.signing.cert_pem)  # type: ignore[attr-defined]
    parsed = freja_client.parse_result(done, ref, key)
    assert parsed.status == "APPROVED" and parsed.approved is not None
    assert (parsed.approved.ssn, parsed.approved.registration_level) == (ANNA, "PLUS")


@pytest.mark.parametrize(("body", "code"), [
    ({"userInfoType": "NAME", "userInfo": "x"}, 1001),
    ({**init_body(ANNA), "minRegistrationLevel": "GOLD"}, 1003),
    ({**init_body(ANNA), "minRegistrationLevel": "BASIC"}, 1003),  # SSN needs EXTENDED+
    ({**init_body(), "userInfoType": "SSN", "userInfo": "bm90IGpzb24="}, 1002),
    ({**init_body(), "attributesToReturn": [{"attribute": "SHOE_SIZE"}]}, 1004)])
async def test_bad_requests_get_freja_error_codes(sim: httpx.AsyncClient, body: dict[str, Any],
                                                  code: int) -> None:
    r = await post(sim, "initAuthentication", field("initAuthRequest", body))
    assert r.status_code == 400 and r.json()["code"] == code and r.json()["message"]


async def test_an_unknown_reference_is_error_1100(sim: httpx.AsyncClient) -> None:
    r = await post(sim, "getOneResult", field("getOneAuthResultRequest", {"authRef": "nope"}))
    assert r.status_code == 400 and r.json()["code"] == 1100


async def test_a_second_authentication_for_the_same_citizen_cancels_both(
        sim: httpx.AsyncClient) -> None:
    first = (await post(sim, "initAuthentication", field("initAuthRequest", init_body(ANNA)))
             ).json()["authRef"]
    second = (await post(sim, "initAuthentication", field("initAuthRequest", init_body(ANNA)))
              ).json()["authRef"]
    assert (await result(sim, first))["status"] == "CANCELED"
    assert (await result(sim, second))["status"] == "CANCELED"


async def test_the_rp_cancels_and_the_app_can_no_longer_approve(sim: httpx.AsyncClient) -> None:
    ref = (await post(sim, "initAuthentication", field("initAuthRequest", init_body(ANNA)))
           ).json()["authRef"]
    assert (await post(sim, "cancel", field("cancelAuthRequest", {"authRef": ref}))
            ).status_code == 200
    assert (await result(sim, ref))["status"] == "RP_CANCELED"
    assert (await sim.post("/phone/open", json={"ssn": ANNA})).status_code == 409


def signed(payload: dict[str, Any]) -> tuple[str, freja_client.ResultKey]:
    """``payload`` signed by a fresh simulator key, and the key that verifies it."""
    signing = make_signing_key()
    token = jws.serialize_compact({"alg": "RS256", "x5t": signing.x5t},
                                  json.dumps(payload).encode(), signing.key)
    return token, freja_client.ResultKey.load(signing.cert_pem)


def approved(ref: str = "ref-12345678") -> dict[str, Any]:
    return {"authRef": ref, "status": "APPROVED", "requestedAttributes": {
        "basicUserInfo": {"name": "Anna", "surname": "Andersson"},
        "ssn": {"ssn": ANNA, "country": "SE"}, "registrationLevel": "PLUS"}}


def test_a_result_signed_by_another_key_is_refused() -> None:
    _, ours = signed(approved())
    forged, _ = signed(approved())  # another simulator's key, its own x5t
    with pytest.raises(FrejaError) as refused:
        freja_client.verify_details(forged, "ref-12345678", ours)
    assert refused.value.code == "badSignature"


def test_a_result_about_another_authentication_is_refused() -> None:
    token, key = signed(approved("ref-OTHER-0000"))
    with pytest.raises(FrejaError, match="another authentication"):
        freja_client.verify_details(token, "ref-12345678", key)


def test_an_unsigned_or_garbled_result_is_refused() -> None:
    _, key = signed(approved())
    unsigned = ".".join([base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("="),
                         base64.urlsafe_b64encode(json.dumps(approved()).encode()).decode()
                         .rstrip("="), ""])
    for bad in (unsigned, "a.b.c", 42, None):
        with pytest.raises(FrejaError):
            freja_client.verify_details(bad, "ref-12345678", key)
    with pytest.raises(FrejaError):
        freja_client.parse_result({"status": "WHATEVER", "authRef": "ref-12345678"},
                                  "ref-12345678", key)

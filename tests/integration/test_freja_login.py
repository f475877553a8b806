"""Freja eID+ through a node and the Freja simulator (real processes): QR and same
device, registration levels and LoA, rejection, cancel, a named citizen, an outage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from citizen import journeys
from service import loa
from service.oidc import extensions
from service.oidc.claims import PNR
from tests.conftest import World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
ANNA = "198112189876"


@pytest.fixture
async def app(freja_simulator: tuple[str, Path]) -> AsyncIterator[httpx.AsyncClient]:
    """The Freja eID app (the simulator's phone API)."""
    async with httpx.AsyncClient(base_url=freja_simulator[0]) as phone:
        yield phone


async def screen(world: World, client_id: str = "rp-basic", **kw: str) -> journeys.Screen:
    resp, flow = await citizen.start(world.browser, client_id, **kw)
    login = citizen.login_url(resp)
    page = await world.browser.get(login)
    return journeys.Screen(login.removeprefix(str(world.browser.base_url).rstrip("/")),
                           citizen.csrf_of(page.text), flow)


async def login(world: World, app: httpx.AsyncClient, client_id: str = "rp-basic", *,
                pnr: str = ANNA, **kw: Any) -> dict[str, Any]:
    s = await screen(world, client_id)
    answer = await citizen.run(journeys.freja(s, pnr, poll_s=0, **kw), world.browser,
                               freja=app)
    return dict(answer.json())


async def id_token(world: World, body: dict[str, Any], s_flow: Any) -> dict[str, Any]:
    code = citizen.query_of(body["next"])["code"]
    tokens = await citizen.redeem(world.http, s_flow, code)
    assert tokens.status_code == 200, tokens.text
    return citizen.decode(tokens.json()["id_token"], await citizen.jwks(world.http))


async def test_a_citizen_registered_at_plus_logs_in_by_qr_at_loa3(
        world: World, app: httpx.AsyncClient) -> None:
    s = await screen(world, "rp-loa3")
    body = (await citizen.run(journeys.freja(s, ANNA, poll_s=0), world.browser,
                              freja=app)).json()
    assert body["status"] == "complete", body
    claims = await id_token(world, body, s.flow)
    assert claims[PNR] == ANNA and claims["acr"] == loa.UNCERTIFIED_LOA3
    assert claims[extensions.AUTHN_PROVIDER_CLAIM] == extensions.provider_uri(
        "freja", world.settings.issuer)


async def test_the_same_device_opens_the_app_link(world: World, app: httpx.AsyncClient) -> None:
    body = await login(world, app, device="same")
    assert body["status"] == "complete", body


async def test_extended_registration_reaches_loa2_only(world: World, app: httpx.AsyncClient
                                                       ) -> None:
    s = await screen(world)  # rp-basic: LoA2 is enough, Freja asks for EXTENDED
    body = (await citizen.run(journeys.freja(s, ANNA, poll_s=0, level="EXTENDED"),
                              world.browser, freja=app)).json()
    assert (await id_token(world, body, s.flow))["acr"] == loa.UNCERTIFIED_LOA2
    # At an e-service that needs LoA3, Freja asks for PLUS: an EXTENDED citizen cannot.
    refused = await login(world, app, "rp-loa3", level="EXTENDED")
    assert refused["status"] == "failed" and "registreringsnivå" in refused["message"]


async def test_a_rejection_fails_the_login_and_offers_another_way(
        world: World, app: httpx.AsyncClient) -> None:
    body = await login(world, app, action="reject")
    assert body["status"] == "failed" and body["next"].endswith("/freja")


async def test_cancel_ends_the_authentication_at_freja_and_returns_to_the_methods(
        world: World, app: httpx.AsyncClient) -> None:
    s = await screen(world)
    page = await world.browser.post(f"{s.login}/freja/start",
                                    data={"csrf": s.csrf, "device": "same"})
    link = citizen.protocol.freja_link(page.text)
    back = await world.browser.post(f"{s.login}/freja/cancel", data={"csrf": s.csrf})
    assert back.status_code == 303 and back.headers["location"] == s.login
    scan = await app.post("/phone/scan", json={"link": link, "ssn": ANNA})
    assert scan.status_code == 409  # no longer there to approve


async def test_a_named_citizen_is_asked_on_their_own_phone_only(
        world: World, app: httpx.AsyncClient) -> None:
    claims = '{"id_token":{"' + PNR + '":{"essential":true,"value":"' + ANNA + '"}}}'
    s = await screen(world, claims=claims)
    page = await world.browser.post(f"{s.login}/freja/start",
                                    data={"csrf": s.csrf, "device": "same"})
    link = citizen.protocol.freja_link(page.text)
    other = await app.post("/phone/scan", json={"link": link, "ssn": "196111091077"})
    assert other.status_code == 409
    opened = await app.post("/phone/open", json={"ssn": ANNA})
    assert opened.status_code == 200 and opened.json()["status"] == "DELIVERED_TO_MOBILE"


async def test_when_freja_is_down_the_page_says_so_and_the_login_lives_on(
        world: World, app: httpx.AsyncClient) -> None:
    await app.post("/control/mode", json={"mode": "unavailable"})
    try:
        s = await screen(world)
        page = await world.browser.post(f"{s.login}/freja/start",
                                        data={"csrf": s.csrf, "device": "other"})
        assert page.status_code == 503 and "Freja eID kunde inte nås" in page.text
        assert (await world.browser.get(s.login)).status_code == 200
    finally:
        await app.post("/control/mode", json={"mode": "normal"})


async def test_an_e_service_without_freja_does_not_offer_it(world: World) -> None:
    s = await screen(world, "rp-bankid-only")
    assert "/freja/start" not in (await world.browser.get(s.login)).text
    assert (await world.browser.get(f"{s.login}/freja")).status_code == 403

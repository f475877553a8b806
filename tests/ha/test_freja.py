"""Freja eID+ through the running cluster: HAProxy, three nodes, the Freja simulator
behind mutual TLS, at the demo e-service."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from citizen import journeys
from ha import cluster as clustermod
from service import loa
from service.oidc.claims import PNR
from tests.ha.test_edge import browser, redirect_uri, tls
from tests.helpers import citizen

pytestmark = pytest.mark.ha
SECRET = "demo-mina-sidor-secret-NOT-FOR-PRODUCTION-7f3a9c"
ANNA = "198112189876"


@pytest.fixture(scope="module")
def info(cluster: clustermod.Cluster) -> dict[str, Any]:
    return clustermod.describe(cluster)


@pytest.mark.parametrize(("level", "acr"), [("PLUS", loa.UNCERTIFIED_LOA3),
                                            ("EXTENDED", loa.UNCERTIFIED_LOA2)])
async def test_a_citizen_logs_in_with_freja_through_the_front_door(
        info: dict[str, Any], level: str, acr: str) -> None:
    async with browser(info) as b, httpx.AsyncClient(base_url=info["freja_phone_url"]) as app:
        resp, flow = await citizen.start(b, "mina-sidor",
                                         redirect_uri=redirect_uri(info, "mina-sidor"))
        assert "/freja/start" in resp.text
        page = await b.get(citizen.login_url(resp))
        screen = journeys.Screen(citizen.login_url(resp).removeprefix(info["issuer"]),
                                 citizen.csrf_of(page.text), flow)
        body = (await citizen.run(journeys.freja(screen, ANNA, poll_s=0.2, level=level), b,
                                  freja=app)).json()
        assert body["status"] == "complete", body
        code = citizen.query_of(body["next"])["code"]
        tokens = await b.post("/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
            "code_verifier": flow.verifier}, headers=citizen.basic("mina-sidor", SECRET))
        claims = citizen.decode(tokens.json()["id_token"], await citizen.jwks(b))
    assert claims[PNR] == ANNA and claims["acr"] == acr


def test_the_freja_rp_api_refuses_a_client_without_certificate(info: dict[str, Any]) -> None:
    with httpx.Client(verify=tls(info)) as plain, pytest.raises(httpx.HTTPError):
        plain.post(info["freja_url"] + "/authentication/1.0/initAuthentication",
                   content="initAuthRequest=e30=")

from __future__ import annotations

import pytest

from tests.conftest import PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


async def test_bankid_code_flow_gives_tokens_and_userinfo(world: World) -> None:
    resp, flow = await citizen.start(world.browser, "rp-basic")
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    assert final.status_code == 303, final.text
    q = citizen.query_of(final.headers["location"])
    assert q["state"] == flow.state and q["iss"] == world.settings.issuer
    tok = await citizen.redeem(world.http, flow, q["code"])
    assert tok.status_code == 200, tok.text
    body = tok.json()
    claims = citizen.decode(body["id_token"], await citizen.jwks(world.http))
    assert claims["nonce"] == flow.nonce
    assert claims["https://id.oidc.se/claim/personalIdentityNumber"] == PNR
    assert claims["sub"] != PNR
    ui = await world.http.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert ui.status_code == 200, ui.text
    assert ui.json()["sub"] == claims["sub"]

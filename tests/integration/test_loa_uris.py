"""``acr`` tells the truth: a deployment DIGG has not reviewed (the default) states the
``uncertified-`` LoA URIs and cannot be asked for ``loa3``; a reviewed one
(``loa_uris = "certified"``) states ``loa2``/``loa3``. Either kind of e-service minimum
in the clients file is a level, whatever the deployment states."""

from __future__ import annotations

import pytest

from service import loa
from tests.conftest import PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


async def bankid_acr(world: World, **kw: str) -> str:
    flow, code = await citizen.bankid_code(world.browser, world.phone, "rp-basic", PNR, **kw)
    tokens = (await citizen.redeem(world.http, flow, code)).json()
    return str(citizen.decode(tokens["id_token"], await citizen.jwks(world.http))["acr"])


async def test_a_deployment_not_reviewed_states_the_uncertified_levels(world: World) -> None:
    assert await bankid_acr(world) == loa.UNCERTIFIED_LOA3
    meta = (await world.http.get("/.well-known/openid-configuration")).json()
    assert meta["acr_values_supported"] == [loa.UNCERTIFIED_LOA2, loa.UNCERTIFIED_LOA3]


async def test_a_deployment_not_reviewed_cannot_be_asked_for_loa3(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", acr_values=loa.LOA3)
    assert resp.status_code in (302, 303)
    assert citizen.query_of(resp.headers["location"])["error"] == \
        "unmet_authentication_requirements"


async def test_asking_for_uncertified_loa3_gets_bankid_only(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", acr_values=loa.UNCERTIFIED_LOA3)
    assert citizen.shows_login(resp)
    assert citizen.login_url(resp) + "/pin" not in resp.text  # no PIN form for LoA3
    other, _ = await citizen.start(world.browser, "rp-basic")
    assert citizen.login_url(other) + "/pin" in other.text  # (which LoA2 offers)
    assert await bankid_acr(world, acr_values=loa.UNCERTIFIED_LOA3) == loa.UNCERTIFIED_LOA3


@pytest.mark.parametrize("world", [{"loa_uris": "certified"}], indirect=True)
async def test_a_reviewed_deployment_states_loa3(world: World) -> None:
    assert await bankid_acr(world, acr_values=loa.LOA3) == loa.LOA3
    meta = (await world.http.get("/.well-known/openid-configuration")).json()
    assert meta["acr_values_supported"] == [loa.LOA2, loa.LOA3]

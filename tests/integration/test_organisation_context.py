"""Company representatives: after a login at an e-service with organisation context the
citizen chooses themself or an organisation they may act for (the representation
register); the choice is kept per e-service, changed only on request, and personal and
company matters stay apart in both directions."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from service.oidc import claims as c
from tests.conftest import PIN_CITIZEN, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
ORG_SCOPE = f"openid profile {c.SCOPE_PERSON_NUMBER} {c.SCOPE_ORG}"
CHOICE = re.compile(r'name="context" value="([^"]+)"')


async def tokens(world: World, flow: citizen.Flow, resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 303, resp.text[:300]
    code = citizen.query_of(resp.headers["location"])["code"]
    body = (await citizen.redeem(world.http, flow, code)).json()
    ui = (await world.http.get("/userinfo", headers={
        "Authorization": "Bearer " + body["access_token"]})).json()
    return {**citizen.decode(body["id_token"], await citizen.jwks(world.http)), "ui": ui}


async def choose(world: World, page: httpx.Response, context: str) -> httpx.Response:
    assert page.status_code == 200 and "Vem företräder du?" in page.text, page.text[:300]
    assert context in CHOICE.findall(page.text)
    tx = citizen.TX.search(page.text)
    assert tx
    return await world.browser.post(f"/login/{tx.group(1)}/context", data={
        "csrf": citizen.csrf_of(page.text), "context": context})


async def login_at_org_portal(world: World) -> tuple[citizen.Flow, httpx.Response]:
    """A PIN login at the organisation-context e-service: the choice page."""
    resp, flow = await citizen.start(world.browser, "rp-org", scope=ORG_SCOPE)
    chosen = await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    assert chosen.status_code == 303 and chosen.headers["location"].endswith("/context")
    return flow, await world.browser.get(chosen.headers["location"])


async def test_acting_for_an_organisation_gives_its_claims(world: World) -> None:
    flow, page = await login_at_org_portal(world)
    assert set(CHOICE.findall(page.text)) == {"self", "5560360793", "2120001421"}
    claims = await tokens(world, flow, await choose(world, page, "5560360793"))
    for where in (claims, claims["ui"]):
        assert where[c.ORG_NUMBER] == "5560360793" and where[c.ORG_NAME] == "Exempel AB"
        assert where[c.ORG_AFFILIATION] == f"{PIN_CITIZEN}@5560360793"


async def test_acting_for_oneself_gives_no_organisation_claims(world: World) -> None:
    flow, page = await login_at_org_portal(world)
    claims = await tokens(world, flow, await choose(world, page, "self"))
    for where in (claims, claims["ui"]):
        assert not set(c.ORG_CLAIMS) & set(where)
    assert claims[c.PNR] == PIN_CITIZEN


async def test_the_choice_is_kept_for_sso_and_changed_only_on_request(world: World) -> None:
    flow, page = await login_at_org_portal(world)
    await tokens(world, flow, await choose(world, page, "5560360793"))
    again, flow2 = await citizen.start(world.browser, "rp-org", scope=ORG_SCOPE)
    assert (await tokens(world, flow2, again))[c.ORG_NUMBER] == "5560360793"  # no question
    asked, flow3 = await citizen.start(world.browser, "rp-org", scope=ORG_SCOPE,
                                       prompt="select_account")
    assert asked.status_code == 303 and asked.headers["location"].endswith("/context")
    page = await world.browser.get(asked.headers["location"])
    changed = await tokens(world, flow3, await choose(world, page, "2120001421"))
    assert changed[c.ORG_NAME] == "Kommunbolaget AB"
    none, flow4 = await citizen.start(world.browser, "rp-org", scope=ORG_SCOPE, prompt="none")
    assert (await tokens(world, flow4, none))[c.ORG_NUMBER] == "2120001421"


async def test_an_e_service_in_personal_context_never_gets_organisation_claims(
        world: World) -> None:
    flow, page = await login_at_org_portal(world)
    await tokens(world, flow, await choose(world, page, "5560360793"))
    # SSO to an e-service without organisation context, even one that asks for it all.
    resp, flow2 = await citizen.start(world.browser, "rp-basic", scope=ORG_SCOPE)
    claims = await tokens(world, flow2, resp)
    assert not set(c.ORG_CLAIMS) & (set(claims) | set(claims["ui"]))


async def test_an_organisation_the_citizen_may_not_act_for_is_refused(world: World) -> None:
    _, page = await login_at_org_portal(world)
    tx = citizen.TX.search(page.text)
    assert tx
    forged = await world.browser.post(f"/login/{tx.group(1)}/context", data={
        "csrf": citizen.csrf_of(page.text), "context": "5566778899"})
    assert forged.status_code == 403 and "location" not in forged.headers


async def test_choosing_is_never_silent_on_prompt_none(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    none, _ = await citizen.start(world.browser, "rp-org", scope=ORG_SCOPE, prompt="none")
    assert citizen.query_of(none.headers["location"])["error"] == "interaction_required"

"""No login without its event: the step that finishes a login appends its audit event
to the stream in the same confirmed store operation; a failed login is recorded too; a
citizen appears only as a pseudonym."""

from __future__ import annotations

import httpx
import pytest

from service.audit.events import PSEUDONYM_PURPOSE, AuditEvent, pseudonym
from service.store import keys
from tests.conftest import World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
PNR = "194001011008"


def events(world: World) -> list[AuditEvent]:
    return [AuditEvent.from_fields(fields) for _, fields in
            world.redis.xrange(keys.audit_stream())]


async def test_a_login_and_a_wrong_pin_are_in_the_stream_under_a_pseudonym(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    login = citizen.login_url(resp)
    wrong = await citizen.pin_login(world.browser, login, PNR, "0000")
    assert wrong.status_code == 401
    done = await citizen.pin_login(world.browser, login, PNR, "1234")
    assert done.status_code == 303
    failed, ok = events(world)
    subject = pseudonym(world.node.keys.current.derived_key(PSEUDONYM_PURPOSE), PNR)
    assert (failed.kind, failed.outcome, failed.detail["reason"]) == ("login", "failure",
                                                                      "pin_wrong")
    assert (ok.kind, ok.outcome, ok.method, ok.client_id) == ("login", "success", "pin",
                                                              "rp-basic")
    assert failed.subject == ok.subject == subject
    assert ok.reference and ok.node == world.settings.node_name
    raw = str(world.redis.xrange(keys.audit_stream()))
    assert PNR not in raw and PNR[2:] not in raw  # never the number in clear


async def test_a_double_submit_writes_one_event(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    login = citizen.login_url(resp)
    page = await world.browser.get(f"{login}/pin")
    form = {"csrf": citizen.csrf_of(page.text), "personal_number": PNR, "pin": "1234"}
    # The tab submits twice before the first answer arrives: a second browser with the
    # same cookies.
    twin = world.new_browser()
    twin.cookies = httpx.Cookies(world.browser.cookies)
    first = await world.browser.post(f"{login}/pin", data=form)
    again = await twin.post(f"{login}/pin", data=form)
    await twin.aclose()
    assert first.status_code == 303 and again.status_code != 303
    assert [e.outcome for e in events(world)] == ["success"]


async def test_a_logout_is_an_event_in_the_step_that_ends_the_session(world: World) -> None:
    resp, flow = await citizen.start(world.browser, "rp-basic")
    done = await citizen.pin_login(world.browser, citizen.login_url(resp), PNR, "1234")
    tokens = (await citizen.redeem(world.http, flow, citizen.query_of(
        done.headers["location"])["code"])).json()
    bye = await world.browser.get(f"/end_session?id_token_hint={tokens['id_token']}")
    assert bye.status_code in (200, 303)
    login, logout = events(world)
    assert (logout.kind, logout.outcome) == ("logout", "success")
    assert logout.subject == login.subject and logout.reference

"""The citizen's journeys without I/O (citizen/journeys.py): the order of the steps,
and that every answer is checked before the next step."""

from __future__ import annotations

import json
from typing import Any

import pytest

from citizen import journeys, protocol
from citizen.journeys import Answer, Call, JourneyFailed, Pause

MINA = journeys.EService("mina-sidor", "https://rp.test/cb", secret="s")
METHOD_PAGE = ('<a href="/login/abcdefghijklmnopqrstuvwx/pin">'
               '<input name="csrf" value="c1">')
BANKID_PAGE = '<a href="bankid:///?autostarttoken=tok&amp;redirect=null">'


def drive(steps: journeys.Steps[Any], answer: Any) -> tuple[list[Call | Pause], Any]:
    """Run ``steps``, answering each call with ``answer(call)``: the calls and the result."""
    seen: list[Call | Pause] = []
    reply: Answer | None = None
    while not isinstance(todo := journeys.advance(steps, reply), journeys.Done):
        seen.append(todo)
        reply = answer(todo) if isinstance(todo, Call) else None
    return seen, todo.value


def site(state_of: dict[str, str], *, collect: list[str]) -> Any:
    """A fake idportal + BankID app that answers each step of a BankID login."""
    statuses = iter(collect)

    def answer(c: Call) -> Answer:
        if c.step == "authorize":
            state_of["state"] = dict(p.split("=", 1) for p in c.path.split("?", 1)[1].split("&"))[
                "state"]
            return Answer(200, METHOD_PAGE)
        if c.step == "bankid_start":
            return Answer(200, BANKID_PAGE)
        if c.step == "phone":
            return Answer(200, "{}")
        if c.step == "collect":
            status = next(statuses)
            nxt = f"https://rp.test/cb?code=g.c&state={state_of['state']}"
            return Answer(200, json.dumps({"status": status, "next": nxt}))
        if c.step == "token":
            return Answer(200, json.dumps({"id_token": "i", "access_token": "a",
                                           "refresh_token": "r"}))
        if c.step == "userinfo":
            return Answer(200, json.dumps({"sub": "x"}))
        raise AssertionError(c.step)

    return answer


def test_a_bankid_login_takes_its_steps_in_order_and_returns_the_tokens() -> None:
    calls, tokens = drive(journeys.bankid_login(MINA, "198112189876"), site({}, collect=[
        "pending", "complete"]))
    assert [c.step if isinstance(c, Call) else "pause" for c in calls] == [
        "authorize", "bankid_start", "phone", "collect", "pause", "collect", "token", "userinfo"]
    assert tokens["refresh_token"] == "r"
    token = next(c for c in calls if isinstance(c, Call) and c.step == "token")
    assert token.to == "backend" and token.headers["Authorization"].startswith("Basic ")
    assert token.form and token.form["code"] == "g.c"


def test_a_redirect_for_another_flow_stops_the_journey() -> None:
    state: dict[str, str] = {}
    answer = site(state, collect=["complete"])

    def wrong_state(c: Call) -> Answer:
        a = answer(c)
        return Answer(a.status, a.text.replace(state.get("state", "-"), "forged")) \
            if c.step == "collect" else a

    with pytest.raises(JourneyFailed) as failed:
        drive(journeys.bankid_login(MINA, "198112189876"), wrong_state)
    assert failed.value.step == "collect"


def test_an_answer_with_another_status_than_expected_names_its_step() -> None:
    with pytest.raises(JourneyFailed, match="bankid_start: 503"):
        drive(journeys.bankid_login(MINA, "198112189876"),
              lambda c: Answer(503, "busy") if c.step == "bankid_start"
              else site({}, collect=["complete"])(c))


def test_a_qr_login_fetches_a_fresh_code_every_second_while_it_waits() -> None:
    screen = journeys.Screen("/login/t", "c1", protocol.Flow("", "", "", "", ""))
    statuses = iter(["pending", "complete"])

    def answer(c: Call) -> Answer:
        if c.step == "collect":
            return Answer(200, json.dumps({"status": next(statuses)}))
        return Answer(200, BANKID_PAGE)

    steps = journeys.bankid(screen, "198112189876", device="other", qr_every_s=1.0)
    with pytest.MonkeyPatch.context() as camera:  # the QR reader needs a real SVG
        camera.setattr("simulators.bankid.camera.read_svg", lambda svg: "bankid.x.y.z")
        calls, last = drive(steps, answer)
    names = [c.step if isinstance(c, Call) else f"pause {c.seconds}" for c in calls]
    assert names == ["bankid_start", "qr", "phone", "collect", "pause 1.0", "qr", "pause 1.0",
                     "qr", "collect"]
    assert last.json()["status"] == "complete" and Pause(1.0, approving=True) in calls

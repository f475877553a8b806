"""The citizen's journeys, step by step, without I/O: one place for the order of the
steps of a login, SSO, refresh and logout, used by the tests, the drills, the load
tests and the benchmark alike.

A journey is a generator (sans-IO): it yields a ``Call`` (an HTTP request from the
citizen's browser, from the e-service's back end or to the simulated BankID or Freja
app) or a
``Pause`` (the citizen waits, the page's script polls), is sent back an ``Answer`` for
each call, checks it, and returns what the journey produced. An adapter does the I/O:
``citizen.aio`` (aiohttp: drills, benchmark), ``tests.helpers.citizen`` (httpx) and
``loadtests.journeys`` (Locust). Every answer is checked here; a wrong one raises
``JourneyFailed`` naming the step.

    tokens = await run(journeys.bankid_login(MINA, pnr))
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

from joserfc.jwk import ECKey

from citizen import protocol

T = TypeVar("T")
Who = Literal["browser", "backend", "phone", "freja"]  # "freja": the Freja eID app


@dataclass(frozen=True)
class Call:
    """One HTTP request. ``step`` names it in drill histories, ``name`` in load-test
    reports (the path with its login id left out); ``to`` says who sends it: the
    citizen's browser (with its cookies), the e-service's back end or the BankID app."""

    step: str
    name: str
    method: str
    path: str
    to: Who = "browser"
    form: Mapping[str, str] | None = None
    json: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    expect: tuple[int, ...] = (200,)


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    location: str = ""

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass(frozen=True)
class Pause:
    """The citizen waits ``seconds``; ``approving``: in the BankID app (load tests leave
    that time out of a journey's duration)."""

    seconds: float
    approving: bool = False


Steps = Generator[Call | Pause, Answer | None, T]


@dataclass(frozen=True)
class Done:
    """The journey's end, with what it returned."""

    value: Any


def advance(steps: Steps[Any], reply: Answer | None) -> Call | Pause | Done:
    """The next thing a journey wants after ``reply`` (an adapter's one step)."""
    try:
        return steps.send(reply)
    except StopIteration as done:
        return Done(done.value)


class JourneyFailed(Exception):
    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step
        self.detail = detail


@dataclass(frozen=True)
class EService:
    """An e-service as the journeys need it: its client id, registered callback and
    client authentication (a secret for client_secret_basic, or a key for
    private_key_jwt with the token endpoint as the assertion's audience)."""

    client_id: str
    redirect_uri: str
    secret: str = ""
    key: ECKey | None = None
    token_endpoint: str = ""

    def authenticate(self, form: dict[str, str]) -> dict[str, str]:
        """Add the client authentication to a token request: its headers."""
        if self.key is not None:
            form.update(protocol.client_assertion(self.client_id, self.token_endpoint, self.key))
            return {}
        return protocol.basic(self.client_id, self.secret)


@dataclass(frozen=True)
class Screen:
    """The method page a new login shows: its login, the form's CSRF token, and the
    e-service's side of the flow (verifier, state)."""

    login: str
    csrf: str
    flow: protocol.Flow


def call(c: Call) -> Generator[Call | Pause, Answer | None, Answer]:
    """Send one call and check its status."""
    answer = yield c
    assert answer is not None, "an adapter must answer every call"
    if answer.status not in c.expect:
        raise JourneyFailed(c.step, f"{answer.status}, wanted {c.expect}: {answer.text[:80]}")
    return answer


# --- the steps -------------------------------------------------------------------------

def authorize(es: EService, *, expect: tuple[int, ...] = (200, 303),
              **extra: str) -> Steps[tuple[Answer, protocol.Flow]]:
    """``/authorize`` in the browser: the answer (the method page, or a redirect) and
    the flow the e-service keeps."""
    params, flow = protocol.authorize(es.client_id, es.redirect_uri, **extra)
    answer = yield from call(Call("authorize", "GET /authorize", "GET",
                                  protocol.authorize_path(params), expect=expect))
    return answer, flow


def open_login(es: EService, **extra: str) -> Steps[Screen]:
    """A login that needs the citizen: ``/authorize`` answers with the method page."""
    answer, flow = yield from authorize(es, expect=(200,), **extra)
    login, csrf = protocol.login_path(answer.text), protocol.csrf(answer.text)
    if not login or not csrf:
        raise JourneyFailed("authorize", "no method page")
    return Screen(login, csrf, flow)


def sso(es: EService) -> Steps[tuple[str, protocol.Flow]]:
    """A second e-service with a live session: a code straight away, no login page."""
    answer, flow = yield from authorize(es, expect=(303,))
    return code_of("sso", answer.location, flow), flow


def code_of(step: str, location: str, flow: protocol.Flow) -> str:
    try:
        return protocol.code_of(location, flow)
    except ValueError as exc:
        raise JourneyFailed(step, str(exc)) from None


def bankid(screen: Screen, pnr: str, *, device: str = "same", action: str = "approve",
           approval_s: float = 0.0, poll_s: float = 2.0, patience_s: float = 30.0,
           polls: int = 0, qr_every_s: float = 0.0) -> Steps[Answer]:
    """From the method page to the end of the BankID order: start it, the app opens it
    (``same``: the autostart link) or scans the QR code (``other``), and the page's
    script collects until the order is no longer pending. Returns the last collect's
    answer (``complete`` names the e-service's redirect in ``next``). ``polls`` bounds
    the collects (0: as many as ``patience_s`` allows; past it the journey fails).
    ``qr_every_s``: on a QR login, fetch a fresh QR code this often while waiting, as
    the page's script does (0: not)."""
    page = yield from call(Call("bankid_start", "POST /login/[tx]/bankid/start", "POST",
                                f"{screen.login}/bankid/start",
                                form={"csrf": screen.csrf, "device": device}))
    csrf = protocol.csrf(page.text) or screen.csrf
    approve = {"personalNumber": pnr, "action": action, "delayMs": int(approval_s * 1000)}
    if device == "same":
        token = protocol.autostart_token(page.text)
        if not token:
            raise JourneyFailed("bankid_start", "no autostart link")
        yield from call(Call("phone", "POST /phone/open", "POST", "/phone/open", to="phone",
                             json={"autoStartToken": token, **approve}))
    else:
        from simulators.bankid.camera import read_svg  # the camera: only for QR journeys

        svg = yield from call(Call("qr", "GET /login/[tx]/bankid/qr.svg", "GET",
                                   f"{screen.login}/bankid/qr.svg"))
        yield from call(Call("phone", "POST /phone/scan", "POST", "/phone/scan", to="phone",
                             json={"qr": read_svg(svg.text), **approve}))
    waited = 0.0
    collects = 0
    while True:
        answer = yield from call(Call(
            "collect", "POST /login/[tx]/bankid/collect", "POST",
            f"{screen.login}/bankid/collect", form={"csrf": csrf},
            headers={"Accept": "application/json"}))
        collects += 1
        body = answer.json()
        if body.get("status") != "pending":
            return answer
        if polls and collects >= polls:
            return answer
        if waited > approval_s + patience_s:
            raise JourneyFailed("collect", f"still pending after {waited:.0f} s")
        pause = min(poll_s, max(0.2, approval_s / 2)) if approval_s else poll_s
        if device == "other" and qr_every_s > 0:
            slept = 0.0
            while slept < pause:
                yield Pause(min(qr_every_s, pause - slept), approving=True)
                slept += qr_every_s
                yield from call(Call("qr", "GET /login/[tx]/bankid/qr.svg", "GET",
                                     f"{screen.login}/bankid/qr.svg"))
        else:
            yield Pause(pause, approving=True)
        waited += pause


def freja(screen: Screen, pnr: str, *, device: str = "other", action: str = "approve",
          level: str = "PLUS", poll_s: float = 2.0, patience_s: float = 30.0) -> Steps[Answer]:
    """From the method page to the end of a Freja eID authentication: start it, the
    Freja app scans the QR code (``other``) or opens the link (``same``) as a citizen
    registered at ``level``, approves or rejects (``action``), and the page's script
    collects until it is no longer pending. Returns the last collect's answer."""
    page = yield from call(Call("freja_start", "POST /login/[tx]/freja/start", "POST",
                                f"{screen.login}/freja/start",
                                form={"csrf": screen.csrf, "device": device}))
    csrf = protocol.csrf(page.text) or screen.csrf
    if device == "same":
        link = protocol.freja_link(page.text)
    else:
        from simulators.bankid.camera import read_svg  # the camera: only for QR journeys

        svg = yield from call(Call("qr", "GET /login/[tx]/freja/qr.svg", "GET",
                                   f"{screen.login}/freja/qr.svg"))
        link = read_svg(svg.text)
    if not link:
        raise JourneyFailed("freja_start", "no Freja eID link")
    opened = yield from call(Call("freja_app", "POST /phone/scan", "POST", "/phone/scan",
                                  to="freja", json={"link": link, "ssn": pnr,
                                                    "registrationLevel": level}))
    yield from call(Call("freja_app", f"POST /phone/{action}", "POST", f"/phone/{action}",
                         to="freja", json={"authRef": opened.json()["authRef"]}))
    waited = 0.0
    while True:
        answer = yield from call(Call(
            "collect", "POST /login/[tx]/freja/collect", "POST", f"{screen.login}/freja/collect",
            form={"csrf": csrf}, headers={"Accept": "application/json"}))
        if answer.json().get("status") != "pending":
            return answer
        if waited > patience_s:
            raise JourneyFailed("collect", f"still pending after {waited:.0f} s")
        yield Pause(poll_s, approving=True)
        waited += poll_s


def freja_code(screen: Screen, pnr: str, **kw: Any) -> Steps[str]:
    """A Freja eID login that must complete: the code for the e-service."""
    answer = yield from freja(screen, pnr, **kw)
    body = answer.json()
    if body.get("status") != "complete":
        raise JourneyFailed("collect", f"{body.get('status')}: {body.get('message', '')}")
    return code_of("collect", str(body.get("next", "")), screen.flow)


def bankid_code(screen: Screen, pnr: str, **kw: Any) -> Steps[str]:
    """A BankID login that must complete: the code for the e-service."""
    answer = yield from bankid(screen, pnr, **kw)
    body = answer.json()
    if body.get("status") != "complete":
        raise JourneyFailed("collect", f"{body.get('status')} {body.get('hintCode', '')}")
    return code_of("collect", str(body.get("next", "")), screen.flow)


def pin(screen: Screen, pnr: str, pin_code: str, *,
        expect: tuple[int, ...] = (303,)) -> Steps[Answer]:
    """Post the PIN form of the method page (a refusal shows it again)."""
    return (yield from call(Call("pin", "POST /login/[tx]/pin", "POST", f"{screen.login}/pin",
                                 form={"csrf": screen.csrf, "personal_number": pnr,
                                       "pin": pin_code}, expect=expect)))


def redeem(es: EService, flow: protocol.Flow, code: str, *,
           step: str = "token") -> Steps[dict[str, Any]]:
    """The e-service redeems the code: the token response, checked."""
    form = protocol.code_form(flow, code)
    headers = es.authenticate(form)
    answer = yield from call(Call(step, "POST /token", "POST", "/token", to="backend",
                                  form=form, headers=headers))
    body = dict(answer.json())
    if not body.get("id_token") or not body.get("access_token"):
        raise JourneyFailed(step, "no id_token or access_token")
    return body


def userinfo(access_token: str) -> Steps[dict[str, Any]]:
    answer = yield from call(Call("userinfo", "GET /userinfo", "GET", "/userinfo",
                                  to="backend",
                                  headers={"Authorization": "Bearer " + access_token}))
    body = dict(answer.json())
    if "sub" not in body:
        raise JourneyFailed("userinfo", "no sub")
    return body


def refresh(es: EService, refresh_token: str) -> Steps[dict[str, Any]]:
    """A refresh grant: the new tokens, with the rotated refresh token."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    headers = es.authenticate(form)
    answer = yield from call(Call("refresh", "POST /token (refresh)", "POST", "/token",
                                  to="backend", form=form, headers=headers))
    body = dict(answer.json())
    if not body.get("access_token") or not body.get("refresh_token"):
        raise JourneyFailed("refresh", "no access_token or rotated refresh_token")
    return body


def logout(id_token: str) -> Steps[Answer]:
    """RP-initiated logout with the ID token as the hint: no confirmation page."""
    return (yield from call(Call("logout", "GET /end_session", "GET",
                                 "/end_session?" + urlencode({"id_token_hint": id_token}),
                                 expect=(200, 303))))


# --- whole journeys ----------------------------------------------------------------------

def bankid_login(es: EService, pnr: str, **kw: Any) -> Steps[dict[str, Any]]:
    """A whole BankID login: authorize → start → the app approves → collect → token →
    userinfo. Returns the token response."""
    screen = yield from open_login(es)
    code = yield from bankid_code(screen, pnr, **kw)
    tokens = yield from redeem(es, screen.flow, code)
    yield from userinfo(str(tokens["access_token"]))
    return tokens


def freja_login(es: EService, pnr: str, **kw: Any) -> Steps[dict[str, Any]]:
    """A whole Freja eID login: authorize → start → the app approves → collect → token
    → userinfo. Returns the token response."""
    screen = yield from open_login(es)
    code = yield from freja_code(screen, pnr, **kw)
    tokens = yield from redeem(es, screen.flow, code)
    yield from userinfo(str(tokens["access_token"]))
    return tokens


def pin_login(es: EService, pnr: str, pin_code: str) -> Steps[dict[str, Any]]:
    """A whole PIN login: authorize (the PIN form is on the method page) → PIN → token →
    userinfo. Returns the token response."""
    screen = yield from open_login(es)
    answer = yield from pin(screen, pnr, pin_code)
    tokens = yield from redeem(es, screen.flow, code_of("pin", answer.location, screen.flow))
    yield from userinfo(str(tokens["access_token"]))
    return tokens

"""Drive the citizen's side of a login over HTTP for the tests: a browser (httpx with
cookies) and the BankID app (the simulator's phone API). The steps are
``citizen.journeys`` and what they send and read ``citizen.protocol``, shared with the
drills, the load tests and the benchmark; ``run`` is the httpx adapter."""

from __future__ import annotations

import base64
import re
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from citizen import journeys, protocol

T = TypeVar("T")
CSRF = protocol.CSRF
TX = protocol.LOGIN
# The desktop autostart link exactly as the page must write it (tests check its form).
AUTOSTART = re.compile(r'href="bankid:///\?autostarttoken=([^&"]+)')
Flow = protocol.Flow
pkce = protocol.pkce
query_of = protocol.query_of


def authorize_params(client_id: str, *, redirect_uri: str = "https://rp.test/cb",
                     scope: str = protocol.SCOPE, **extra: str) -> tuple[dict[str, str], Flow]:
    """``citizen.protocol.authorize`` with the test clients' redirect URI by default."""
    return protocol.authorize(client_id, redirect_uri, scope=scope, **extra)


def csrf_of(page: str) -> str:
    token = protocol.csrf(page)
    assert token, "no CSRF token on the page"
    return token


async def start(browser: httpx.AsyncClient, client_id: str, **kw: str) -> tuple[httpx.Response, Flow]:
    params, flow = authorize_params(client_id, **kw)
    resp = await browser.get("/authorize?" + urlencode(params))
    return resp, flow


def login_url(resp: httpx.Response) -> str:
    """The login an ``/authorize`` started: it answers with the method page in place."""
    assert resp.status_code == 200, (resp.status_code, resp.text[:300])
    m = TX.search(resp.text)
    assert m, "no login transaction on the page"
    return f"/login/{m.group(1)}"


def shows_login(resp: httpx.Response) -> bool:
    """True when ``/authorize`` asked the citizen to log in (not an SSO answer)."""
    return resp.status_code == 200 and TX.search(resp.text) is not None


# The tests look at every answer themselves: the journeys' steps accept any status here.
ANY = tuple(range(100, 600))


async def run(steps: journeys.Steps[T], browser: httpx.AsyncClient,
              phone: httpx.AsyncClient | None = None,
              backend: httpx.AsyncClient | None = None,
              seen: list[httpx.Response] | None = None,
              freja: httpx.AsyncClient | None = None) -> T:
    """Drive a journey of ``citizen.journeys`` with the tests' httpx clients (the
    citizen's browser keeps cookies; the back end and the app are other clients).
    Pauses are skipped: the simulator answers at once. ``seen`` collects every response
    as it came, for tests that look at more than the journey checks."""
    reply: journeys.Answer | None = None
    clients = {"browser": browser, "phone": phone, "backend": backend or browser,
               "freja": freja}
    while not isinstance(todo := journeys.advance(steps, reply), journeys.Done):
        if isinstance(todo, journeys.Pause):
            reply = None
            continue
        client = clients[todo.to]
        assert client is not None, f"a {todo.to} client is needed for {todo.step}"
        resp = await client.request(todo.method, todo.path, data=todo.form, json=todo.json,
                                    headers=dict(todo.headers))
        if seen is not None:
            seen.append(resp)
        reply = journeys.Answer(resp.status_code, resp.text, resp.headers.get("location", ""))
    return todo.value  # type: ignore[no-any-return]


async def screen_of(browser: httpx.AsyncClient, login_url: str) -> journeys.Screen:
    """The method page of a login already started (its flow stays with the caller: the
    screen's is empty)."""
    page = await browser.get(login_url)
    assert page.status_code == 200, page.text
    tx = TX.search(login_url)
    assert tx
    return journeys.Screen(f"/login/{tx.group(1)}", csrf_of(page.text),
                            flow=protocol.Flow("", "", "", "", ""))


async def bankid_login(browser: httpx.AsyncClient, phone: httpx.AsyncClient, login_url: str,
                       pnr: str, *, device: str = "same", action: str = "approve") -> httpx.Response:
    """From the method page to the redirect back to the e-service (the final response),
    or the last /collect's answer when the order did not complete."""
    screen = await screen_of(browser, login_url)
    seen: list[httpx.Response] = []
    answer = await run(journeys.bankid(screen, pnr, device=device, action=action, poll_s=0,
                                       polls=50), browser, phone, seen=seen)
    body = answer.json()
    if body.get("status") != "complete":
        return seen[-1]
    # The completing /collect set the session cookie and names the e-service's redirect.
    return httpx.Response(303, headers={"location": body["next"]})


async def bankid_code(browser: httpx.AsyncClient, phone: httpx.AsyncClient, client_id: str,
                      pnr: str, **kw: str) -> tuple[Flow, str]:
    """A whole BankID login for ``client_id``: the flow and the code it ended with."""
    resp, flow = await start(browser, client_id, **kw)
    final = await bankid_login(browser, phone, login_url(resp), pnr)
    assert final.status_code == 303, final.text
    return flow, query_of(final.headers["location"])["code"]


async def pin_login(browser: httpx.AsyncClient, login_url: str, pnr: str,
                    pin: str) -> httpx.Response:
    """Post the PIN form of the login's PIN page; the answer as it came."""
    tx = TX.search(login_url)
    assert tx
    screen = await screen_of(browser, f"/login/{tx.group(1)}/pin")
    seen: list[httpx.Response] = []
    await run(journeys.pin(screen, pnr, pin, expect=ANY), browser, seen=seen)
    return seen[-1]


def basic(client_id: str, secret: str | None = None) -> dict[str, str]:
    """Basic credentials; the test clients' secret is ``<client_id>-secret``."""
    return protocol.basic(client_id, secret or client_id + "-secret")


async def redeem(http: httpx.AsyncClient, flow: Flow, code: str) -> httpx.Response:
    return await http.post("/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
        "code_verifier": flow.verifier}, headers=basic(flow.client_id))


async def jwks(http: httpx.AsyncClient) -> KeySet:
    return KeySet.import_key_set((await http.get("/jwks")).json())


def decode(token: str, keys: KeySet) -> dict[str, Any]:
    return dict(jwt.decode(token, keys, algorithms=["ES256", "RS256"]).claims)


def header(token: str) -> dict[str, Any]:
    import json
    return dict(json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")))

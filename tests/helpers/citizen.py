"""Drive the citizen's side of a login over HTTP for the tests: a browser (httpx with
cookies) and the BankID app (the simulator's phone API). What it sends and reads is
``citizen.protocol``, shared with the drills, the load tests and the benchmark."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from citizen import protocol
from simulators.bankid.camera import read_svg

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


async def bankid_login(browser: httpx.AsyncClient, phone: httpx.AsyncClient, login_url: str,
                       pnr: str, *, device: str = "same", action: str = "approve") -> httpx.Response:
    """From the method page to the redirect back to the e-service (the final response)."""
    page = await browser.get(login_url)
    assert page.status_code == 200, page.text
    tx = TX.search(login_url)
    assert tx
    tx_id = tx.group(1)
    page = await browser.post(f"/login/{tx_id}/bankid/start",
                              data={"csrf": csrf_of(page.text), "device": device})
    assert page.status_code == 200, page.text
    csrf = csrf_of(page.text)
    if device == "same":
        token = protocol.autostart_token(page.text)
        assert token, "no autostart link"
        r = await phone.post("/phone/open", json={"autoStartToken": token,
                                                  "personalNumber": pnr, "action": action})
    else:
        svg = await browser.get(f"/login/{tx_id}/bankid/qr.svg")
        assert svg.status_code == 200
        r = await phone.post("/phone/scan", json={"qr": read_svg(svg.text),
                                                  "personalNumber": pnr, "action": action})
    assert r.status_code == 200, r.text
    for _ in range(50):
        resp = await browser.post(f"/login/{tx_id}/bankid/collect", data={"csrf": csrf},
                                  headers={"Accept": "application/json"})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if body["status"] != "pending":
            break
    if body["status"] != "complete":
        return resp
    # The completing /collect set the session cookie and names the e-service's redirect.
    return httpx.Response(303, headers={"location": body["next"]}, request=resp.request)


async def bankid_code(browser: httpx.AsyncClient, phone: httpx.AsyncClient, client_id: str,
                      pnr: str, **kw: str) -> tuple[Flow, str]:
    """A whole BankID login for ``client_id``: the flow and the code it ended with."""
    resp, flow = await start(browser, client_id, **kw)
    final = await bankid_login(browser, phone, login_url(resp), pnr)
    assert final.status_code == 303, final.text
    return flow, query_of(final.headers["location"])["code"]


async def pin_login(browser: httpx.AsyncClient, login_url: str, pnr: str,
                    pin: str) -> httpx.Response:
    tx = TX.search(login_url)
    assert tx
    page = await browser.get(f"/login/{tx.group(1)}/pin")
    assert page.status_code == 200, page.text
    return await browser.post(f"/login/{tx.group(1)}/pin", data={
        "csrf": csrf_of(page.text), "personal_number": pnr, "pin": pin})


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

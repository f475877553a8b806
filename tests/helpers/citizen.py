"""Drive the citizen's side of a login over HTTP: a browser (httpx with cookies) and
the BankID app (the simulator's phone API). Used by integration and e2e tests."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from simulators.bankid.camera import read_svg

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
AUTOSTART = re.compile(r'href="bankid:///\?autostarttoken=([^&"]+)')
TX = re.compile(r"/login/([A-Za-z0-9_\-]+)")


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"=").decode()
    return verifier, challenge


@dataclass
class Flow:
    client_id: str
    redirect_uri: str
    verifier: str
    state: str
    nonce: str


def authorize_params(client_id: str, *, redirect_uri: str = "https://rp.test/cb",
                     scope: str = "openid profile https://id.oidc.se/scope/naturalPersonNumber",
                     **extra: str) -> tuple[dict[str, str], Flow]:
    verifier, challenge = pkce()
    flow = Flow(client_id, redirect_uri, verifier, secrets.token_urlsafe(8),
                secrets.token_urlsafe(8))
    params = {"client_id": client_id, "response_type": "code", "scope": scope,
              "redirect_uri": redirect_uri, "state": flow.state, "nonce": flow.nonce,
              "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    return {k: v for k, v in params.items() if v is not None}, flow


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def csrf_of(page: str) -> str:
    m = CSRF.search(page)
    assert m, "no CSRF token on the page"
    return html.unescape(m.group(1))


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
        token = AUTOSTART.search(page.text)
        assert token, "no autostart link"
        r = await phone.post("/phone/open", json={"autoStartToken": html.unescape(token.group(1)),
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
    raw = f"{client_id}:{secret or client_id + '-secret'}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


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

"""What a citizen's browser and an e-service do in a login, without I/O: build the
authorization request (PKCE S256, state, nonce), read idportal's pages (the login
transaction, the CSRF token, the BankID autostart link), read the redirect back, and
build the token request with the e-service's client authentication."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey

SCOPE = "openid profile https://id.oidc.se/scope/naturalPersonNumber"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
AUTOSTART = re.compile(r"autostarttoken=([^&\"]+)")
FREJA_LINK = re.compile(r'href="(frejaeid://bindUserToTransaction\?[^"]+)"')
LOGIN = re.compile(r"/login/([A-Za-z0-9_\-]{16,64})")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"=").decode()
    return verifier, challenge


@dataclass
class Flow:
    """One authorization request, as the e-service remembers it until the redirect back
    (tests alter it to try what a wrong verifier or redirect URI gets)."""

    client_id: str
    redirect_uri: str
    verifier: str
    state: str
    nonce: str


def authorize(client_id: str, redirect_uri: str, *, scope: str = SCOPE,
              **extra: str) -> tuple[dict[str, str], Flow]:
    """The ``/authorize`` parameters (code flow, PKCE S256) and the flow to keep."""
    verifier, challenge = pkce()
    flow = Flow(client_id, redirect_uri, verifier, secrets.token_urlsafe(8),
                secrets.token_urlsafe(8))
    params = {"client_id": client_id, "response_type": "code", "scope": scope,
              "redirect_uri": redirect_uri, "state": flow.state, "nonce": flow.nonce,
              "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    return params, flow


def authorize_path(params: dict[str, str]) -> str:
    return "/authorize?" + urlencode(params)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def code_of(location: str, flow: Flow) -> str:
    """The code in the redirect back, or ValueError when it is not this flow's answer."""
    q = query_of(location)
    if q.get("state") != flow.state or "code" not in q:
        raise ValueError(f"no code for this flow in the redirect ({q.get('error', 'no error')})")
    return q["code"]


def login_id(page: str) -> str:
    """The login transaction a page belongs to ('' when it shows none)."""
    m = LOGIN.search(page)
    return m.group(1) if m else ""


def login_path(page: str) -> str:
    """``/login/<tx>`` of the method page a new login gets ('' when it is none)."""
    tx = login_id(page)
    return f"/login/{tx}" if tx else ""


def csrf(page: str) -> str:
    m = CSRF.search(page)
    return html.unescape(m.group(1)) if m else ""


def autostart_token(page: str) -> str:
    m = AUTOSTART.search(page)
    return html.unescape(m.group(1)) if m else ""


def freja_link(page: str) -> str:
    """The Freja eID app link of a Freja page on the citizen's own device."""
    m = FREJA_LINK.search(page)
    return html.unescape(m.group(1)) if m else ""


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def code_form(flow: Flow, code: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code,
            "redirect_uri": flow.redirect_uri, "code_verifier": flow.verifier}


def client_assertion(client_id: str, token_endpoint: str, key: ECKey, *,
                     lifetime: int = 60) -> dict[str, str]:
    """``private_key_jwt`` (RFC 7523 §2.2): the form fields of a short-lived assertion."""
    now = int(time.time())
    token = jwt.encode({"alg": "ES256", "kid": key.kid}, {
        "iss": client_id, "sub": client_id, "aud": token_endpoint,
        "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + lifetime}, key)
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": token}

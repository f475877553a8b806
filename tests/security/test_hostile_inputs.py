"""A hand-written corpus of hostile requests to the HTML endpoints, and forged or
replayed artefacts at the protocol endpoints. Nothing may give a 5xx, a stack trace,
an unescaped reflection, a redirect to an unregistered place, or a change of state."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import quote, urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from tests.conftest import DATA, PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration

XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
       "';alert(1);//", "{{7*7}}", "${7*7}", "<svg/onload=alert(1)>"]
WEIRD = ["\x00", "%00", "\r\nSet-Cookie: a=b", "../../etc/passwd", "ö" * 300, "\ud7ff" * 10,
         "A" * 3000, "%", "%%", "%zz", "+", " ", "\t", "🙂" * 50]
PATHS = ["/login/" + "x" * 40, "/login/../../etc/passwd", "/login/%2e%2e%2f", "/login/abc/pin",
         "/login/" + "a" * 500 + "/bankid", "/static/../service/app.py", "/static/%2e%2e/x",
         "/end_session", "/authorize", "/.well-known/../jwks", "/login//bankid/qr.svg"]
TRIED: list[str] = []


def snapshot(world: World) -> list[str]:
    return sorted(world.redis.scan_iter("*"))


async def check(world: World, method: str, url: str, **kw: object) -> None:
    TRIED.append(url)
    r = await world.browser.request(method, url, **kw)  # type: ignore[arg-type]
    assert r.status_code < 500, (url, r.status_code)
    assert "Traceback" not in r.text and 'File "/' not in r.text
    assert r.headers.get("x-content-type-options") == "nosniff"
    for payload in XSS:
        assert payload not in r.text, f"reflected unescaped: {payload}"
    loc = r.headers.get("location", "")
    assert not loc or loc.startswith(("/", world.settings.issuer + "/", "https://rp.test/",
                                      "https://other.test/")), loc


async def test_hostile_authorize_parameters_never_break_the_node(world: World) -> None:
    before = snapshot(world)
    for value in XSS + WEIRD:
        for name in ("client_id", "redirect_uri", "state", "nonce", "scope", "prompt",
                     "code_challenge", "ui_locales", "login_hint", "acr_values", "claims", "max_age"):
            params, _ = citizen.authorize_params("nobody")
            params[name] = value
            await check(world, "GET", "/authorize?" + urlencode(params))
    assert snapshot(world) == before  # an unknown client creates nothing


async def test_hostile_values_for_a_known_client_redirect_only_to_its_registered_uri(world: World) -> None:
    for value in XSS + WEIRD:
        for name in ("state", "nonce", "prompt", "max_age", "claims", "response_type"):
            params, _ = citizen.authorize_params("rp-basic")
            params[name] = value
            await check(world, "GET", "/authorize?" + urlencode(params))


async def test_hostile_paths_and_raw_queries(world: World) -> None:
    before = snapshot(world)
    for path in PATHS:
        for method in ("GET", "POST", "PUT", "DELETE"):
            await check(world, method, path)
    for raw in ["%ff%fe", "a=%ff", "&&&==&", "a" * 5000, "client_id=%00", ";;;"]:
        await check(world, "GET", "/authorize?" + raw)
    assert snapshot(world) == before


async def test_hostile_login_form_posts_change_nothing(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    url = citizen.login_url(resp)
    page = resp
    csrf = citizen.csrf_of(page.text)
    before = snapshot(world)
    for value in XSS + WEIRD:
        for form in ({"csrf": value, "personal_number": PNR, "pin": "1234"},
                     {"csrf": csrf, "personal_number": value, "pin": "1234"}):
            await check(world, "POST", url + "/pin", data=form)
        await check(world, "POST", url + "/bankid/start", data={"csrf": value})
        await check(world, "POST", url + "/bankid/collect", data={"csrf": value})
    for ctype, body in (("application/json", b'{"csrf": "x"}'), ("text/plain", b"csrf=x"),
                        ("application/x-www-form-urlencoded", b"\xff\xfe"),
                        ("multipart/form-data; boundary=x", b"--x--")):
        await check(world, "POST", url + "/pin", content=body, headers={"content-type": ctype})
    assert snapshot(world) == before  # no PIN counter moved, no order started


async def test_forged_cookies_are_ignored(world: World) -> None:
    for value in ["x" * 200, "' OR 1=1", "\x00", "a" * 43, "../../"]:
        world.browser.cookies.set("__Host-idp_session", quote(value), domain="idp.test")
        resp, _ = await citizen.start(world.browser, "rp-basic", prompt="none")
        assert citizen.query_of(resp.headers["location"])["error"] == "login_required"
        TRIED.append(value)


async def _tokens(world: World, client: str = "rp-basic") -> tuple[citizen.Flow, dict[str, str]]:
    resp, flow = await citizen.start(world.browser, client)
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    return flow, (await citizen.redeem(world.http, flow,
                                       citizen.query_of(final.headers["location"])["code"])).json()


def _tamper(token: str, change: dict[str, object]) -> str:
    h, p, s = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=="))
    claims.update(change)
    return h + "." + base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode() + "." + s


async def test_tampered_and_misused_tokens_are_not_hints(world: World) -> None:
    _, body = await _tokens(world)
    bad = [_tamper(body["id_token"], {"sub": "someone-else"}), body["access_token"],
           body["id_token"][:-4] + "AAAA", "eyJhbGciOiJub25lIn0." + body["id_token"].split(".")[1] + "."]
    for hint in bad:
        resp, _ = await citizen.start(world.browser, "rp-basic", prompt="none", id_token_hint=hint)
        assert citizen.query_of(resp.headers["location"])["error"] == "invalid_request"
        r = await world.browser.get("/end_session?" + urlencode({"id_token_hint": hint}))
        assert r.status_code in (200, 400)  # refused, or the citizen is asked to confirm
        assert "location" not in r.headers
        TRIED.append(hint)


async def test_logout_token_is_not_accepted_as_an_id_token_hint(world: World) -> None:
    from service.oidc.issued_tokens import logout_token

    ring = world.node.keys.current
    forged = logout_token(ring, issuer=world.settings.issuer, client_id="rp-basic", sub="x",
                          sid="y", now=int(time.time()), lifetime=120)
    resp, _ = await citizen.start(world.browser, "rp-basic", prompt="none", id_token_hint=forged)
    assert citizen.query_of(resp.headers["location"])["error"] == "invalid_request"


async def test_client_assertions_with_alg_none_or_hmac_over_the_public_key_are_refused(
        world: World) -> None:
    resp, flow = await citizen.start(world.browser, "rp-jwt")
    final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    code = citizen.query_of(final.headers["location"])["code"]
    now = int(time.time())
    claims = {"iss": "rp-jwt", "sub": "rp-jwt", "aud": world.settings.issuer + "/token",
              "jti": "forged", "exp": now + 60}
    public = json.loads((DATA / "rp-jwt-jwks.json").read_text())["keys"][0]
    hmac_key = OctKey.import_key(json.dumps(public).encode())
    forged = [
        "eyJhbGciOiJub25lIn0." + base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(
            b"=").decode() + ".",
        jwt.encode({"alg": "HS256"}, claims, hmac_key, algorithms=["HS256"]),
        jwt.encode({"alg": "ES256"}, claims, ECKey.generate_key("P-256")),
    ]
    for assertion in forged:
        r = await world.http.post("/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
            "code_verifier": flow.verifier, "client_assertion": assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        TRIED.append(assertion)


async def test_forged_access_tokens_are_refused_everywhere(world: World) -> None:
    _, body = await _tokens(world)
    at = body["access_token"]
    for forged in (_tamper(at, {"gid": "someone-elses-grant"}), _tamper(at, {"exp": 9_999_999_999}),
                   _tamper(at, {"scope": "openid profile everything"})):
        r = await world.http.get("/userinfo", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401
        r = await world.http.post("/introspect", data={"token": forged},
                                  headers=citizen.basic("rp-basic"))
        assert r.json() == {"active": False}
        TRIED.append(forged)


def test_zz_report_the_number_of_hostile_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    print(f"hostile inputs tried in this module: {len(TRIED)}")

"""Hostile and malformed requests: the right OAuth error or a clear page with a support
reference, never a 500 or a stack trace, and the store left as it was."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from service import loa
from service.health import metrics_text
from tests.conftest import World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


def snapshot(world: World) -> dict[str, str]:
    return {k: str(world.redis.type(k)) for k in world.redis.scan_iter("*")}


async def test_unknown_client_shows_an_error_page_with_support_reference(world: World) -> None:
    before = snapshot(world)
    resp, _ = await citizen.start(world.browser, "nobody")
    assert resp.status_code == 400 and "location" not in resp.headers
    assert resp.headers["x-request-id"] in resp.text
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    assert snapshot(world) == before


async def test_open_redirect_is_impossible_with_an_unregistered_uri(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", redirect_uri="https://evil.test/cb",
                                  response_type="token")
    assert resp.status_code == 400 and "location" not in resp.headers


async def test_duplicated_parameters_are_refused(world: World) -> None:
    params, _ = citizen.authorize_params("rp-basic")
    q = urlencode(params) + "&scope=openid"
    resp = await world.browser.get("/authorize?" + q)
    assert resp.status_code == 303
    assert citizen.query_of(resp.headers["location"])["error"] == "invalid_request"


async def test_oversized_parameters_and_bodies_are_refused(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", nonce="n" * 5000)
    assert citizen.query_of(resp.headers["location"])["error"] == "invalid_request"
    big = await world.http.post("/token", content=b"a=" + b"x" * 100_000,
                                headers={"content-type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413


async def test_too_many_parameters_are_refused(world: World) -> None:
    q = "&".join(f"p{i}=x" for i in range(200))
    r = await world.browser.get("/authorize?" + q)
    assert r.status_code == 400


async def test_token_endpoint_errors_are_json(world: World) -> None:
    cases = [
        ({"grant_type": "authorization_code"}, citizen.basic("rp-basic"), 400, "invalid_request"),
        ({"grant_type": "password"}, citizen.basic("rp-basic"), 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://rp.test/cb",
          "code_verifier": "v" * 43}, citizen.basic("rp-basic"), 400, "invalid_grant"),
        ({"grant_type": "refresh_token", "refresh_token": "garbage"}, citizen.basic("rp-basic"),
         400, "invalid_grant"),
        ({"grant_type": "authorization_code"}, {}, 401, "invalid_client"),
        ({"grant_type": "authorization_code"}, {"Authorization": "Basic !!!"}, 401, "invalid_client"),
        ({"grant_type": "authorization_code", "client_id": "rp-basic",
          "client_secret": "rp-basic-secret"}, {}, 401, "invalid_client"),  # wrong method
        ({"grant_type": "authorization_code", "client_id": "rp-basic",
          "client_secret": "x"}, citizen.basic("rp-basic"), 401, "invalid_client"),  # two methods
    ]
    for form, headers, status, error in cases:
        r = await world.http.post("/token", data=form, headers=headers)
        assert (r.status_code, r.json()["error"]) == (status, error), form
        assert r.json()["support_ref"] == r.headers["x-request-id"]


async def test_wrong_content_type_at_token_endpoint_is_415(world: World) -> None:
    r = await world.http.post("/token", json={"grant_type": "x"}, headers=citizen.basic("rp-basic"))
    assert r.status_code == 415


async def test_tampered_or_forged_tokens_are_refused_at_userinfo(world: World) -> None:
    for token in ("x", "a.b.c", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0In0.",
                  "Bearer", "a" * 10000):
        r = await world.http.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (401, 431) and "traceback" not in r.text.lower()


async def test_bad_id_token_hint_is_refused(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", id_token_hint="a.b.c")
    assert citizen.query_of(resp.headers["location"])["error"] == "invalid_request"
    r = await world.browser.get("/end_session?id_token_hint=a.b.c")
    assert r.status_code == 400


async def test_unknown_paths_and_methods_get_pages_not_stack_traces(world: World) -> None:
    r = await world.browser.get("/nope")
    assert r.status_code == 404 and "Ange referensen" in r.text
    r = await world.browser.delete("/token")
    assert r.status_code == 405
    r = await world.browser.get("/login/" + "x" * 30)
    assert r.status_code == 410
    r = await world.browser.get("/login/%00%ff")
    assert r.status_code in (404, 410)


async def test_error_description_has_no_control_characters(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic", prompt="bogus\n\x01")
    desc = citizen.query_of(resp.headers["location"])["error_description"]
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in desc)


async def test_every_response_has_security_headers(world: World) -> None:
    for path in ("/.well-known/openid-configuration", "/jwks", "/healthz", "/nope"):
        r = await world.browser.get(path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" in r.headers


async def test_discovery_describes_the_profile(world: World) -> None:
    d = (await world.http.get("/.well-known/openid-configuration")).json()
    assert d["issuer"] == world.settings.issuer
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert d["response_types_supported"] == ["code"]
    # A deployment DIGG has not reviewed (the default) states the uncertified URIs only.
    assert d["acr_values_supported"] == [loa.UNCERTIFIED_LOA2, loa.UNCERTIFIED_LOA3]
    assert set(d["id_token_signing_alg_values_supported"]) == {"ES256", "RS256"}
    assert d["authorization_response_iss_parameter_supported"] is True
    keys = (await world.http.get("/jwks")).json()["keys"]
    assert all("d" not in k and "p" not in k for k in keys)  # public parts only
    assert {k["alg"] for k in keys} == {"ES256", "RS256"}


async def test_health_and_metrics_answer(world: World) -> None:
    assert (await world.http.get("/healthz")).status_code == 200
    assert (await world.http.get("/readyz")).json()["status"] == "ready"
    await citizen.start(world.browser, "rp-basic")
    # The public app has no /metrics: the node serves it on an internal listener.
    assert (await world.http.get("/metrics")).status_code == 404
    m = metrics_text()
    assert "idportal_http_requests_total" in m and "idportal_store_retries_total" in m


async def test_request_log_line_names_route_client_status_and_never_secrets(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import json

    import structlog

    from service import observability
    from service.observability import redact

    # The request line is written by the configured chain straight to its stream: read
    # it there, as an operator's log shipper would.
    written = io.StringIO()
    processors, _ = observability._REQUEST_LINE[0]
    monkeypatch.setattr(observability, "_REQUEST_LINE", [(processors, written)])
    with structlog.testing.capture_logs(processors=[observability.merge_bound, redact]) as logs:
        resp, flow = await citizen.start(world.browser, "rp-basic")
        final = await citizen.pin_login(world.browser, citizen.login_url(resp), "194001011008", "1234")
        code = citizen.query_of(final.headers["location"])["code"]
        await citizen.redeem(world.http, flow, code)
    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    assert lines and all(e["event"] == "request" and e["level"] == "info" for e in lines)
    assert {"authorize", "pin_submit", "token"} <= {e["route"] for e in lines}
    assert all(e.get("client_id") == "rp-basic" for e in lines if e["route"] in ("authorize", "token"))
    assert all("status" in e and "duration_ms" in e and "timestamp" in e and "request_id" in e
               for e in lines)
    assert code not in written.getvalue() and code not in repr(logs)
    login = [e for e in logs if e["event"] == "login"]
    assert login and login[0]["method"] == "pin" and login[0]["outcome"] == "success"
    assert "194001011008" not in repr(login)

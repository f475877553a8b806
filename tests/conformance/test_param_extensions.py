"""oidc.se Authentication Request Parameter Extensions 1.1: ``userMessage`` shown safely
on the login pages and in the BankID app, never on ``prompt=none``, an unsupported MIME
type refused; ``authnProvider`` choosing the way in, and the ``authnProvider`` claim
saying which way the citizen took."""

from __future__ import annotations

import base64
import html
import json
from typing import Any

import pytest

from service.oidc import extensions
from tests.conftest import PIN_CITIZEN, PNR, World
from tests.helpers import citizen

pytestmark = pytest.mark.integration


def message(mime: str = "text/plain", **texts: str) -> str:
    body: dict[str, str] = {"mime_type": mime}
    for lang, text in texts.items():
        key = "message" if lang == "default" else f"message#{lang}"
        body[key] = base64.b64encode(text.encode()).decode()
    return json.dumps(body)


async def start(world: World, **extra: str) -> Any:
    resp, flow = await citizen.start(world.browser, "rp-basic", **extra)
    return resp, flow


async def app_shows(world: World, page: Any) -> dict[str, Any]:
    """Start BankID on this device from the method page: what the app shows."""
    tx = citizen.login_url(page)
    started = await world.browser.post(tx + "/bankid/start", data={
        "csrf": citizen.csrf_of(page.text), "device": "same"})
    token = citizen.AUTOSTART.search(started.text)
    assert token, started.text[:300]
    r = await world.phone.post("/phone/open", json={
        "autoStartToken": html.unescape(token.group(1)), "personalNumber": PNR})
    return dict(r.json()), started


async def test_a_plain_text_message_is_shown_escaped_in_the_citizens_language(
        world: World) -> None:
    resp, _ = await start(world, **{extensions.USER_MESSAGE: message(
        sv="Du loggar in för att söka bygglov <script>x()</script>", en="Apply for a permit")})
    assert "Du loggar in för att söka bygglov &lt;script&gt;" in resp.text
    assert "<script>x()" not in resp.text
    english = await world.browser.get(citizen.login_url(resp) + "?lang=en")
    assert "Apply for a permit" in english.text
    # The citizen chose English: the app and the BankID page show the English message.
    shown, page = await app_shows(world, resp)
    assert shown["userVisibleData"].startswith("Apply for a permit")
    assert shown["userVisibleDataFormat"] == ""  # plain text
    assert "Apply for a permit" in page.text  # the BankID page shows it too


async def test_a_markdown_message_is_rendered_without_html_and_sent_as_simple_markdown(
        world: World) -> None:
    text = "# Bygglov\n\n**Ansökan** om *bygglov* <img src=x onerror=alert(1)> [här](javascript:x)"
    resp, _ = await start(world, **{extensions.USER_MESSAGE: message("text/markdown",
                                                                     default=text)})
    shown_on_page = resp.text.split('class="user-message"')[1].split("</div>")[0]
    # Below the page's own h1; no HTML of the e-service's, no link.
    assert "<h2>Bygglov</h2>" in shown_on_page and "<strong>Ansökan</strong>" in shown_on_page
    assert "<img" not in shown_on_page and "&lt;img" in shown_on_page
    assert "<a " not in shown_on_page
    shown, _ = await app_shows(world, resp)
    assert shown["userVisibleData"] == text
    assert shown["userVisibleDataFormat"] == "simpleMarkdownV1"


@pytest.mark.parametrize(("value", "why"), [
    (message("text/html", default="x"), "mime_type"),
    ('{"message": "not base64!"}', "base64"),
    ("not json", "JSON"),
    (message(sv="x" * 1200), "bytes"),
    ('{"message#sv": "eA==", "other": "x"}', "unknown member"),
])
async def test_a_bad_user_message_is_refused(world: World, value: str, why: str) -> None:
    resp, flow = await start(world, **{extensions.USER_MESSAGE: value})
    q = citizen.query_of(resp.headers["location"])
    assert q["error"] == "invalid_request" and why in q["error_description"]
    assert q["state"] == flow.state


async def test_a_message_never_stops_prompt_none(world: World) -> None:
    resp, _ = await start(world)
    await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    again, _ = await start(world, prompt="none", **{extensions.USER_MESSAGE: message(
        default="Hej")})
    assert again.status_code == 303 and "code" in citizen.query_of(again.headers["location"])


async def test_authn_provider_chooses_the_way_in(world: World) -> None:
    pin_uri = extensions.provider_uri("pin", world.settings.issuer)
    only_pin, _ = await start(world, **{extensions.AUTHN_PROVIDER: pin_uri})
    assert "/bankid/start" not in only_pin.text and "/pin" in only_pin.text
    only_bankid, _ = await start(world, **{extensions.AUTHN_PROVIDER: extensions.BANKID})
    assert "/bankid/start" in only_bankid.text and 'name="pin"' not in only_bankid.text
    unknown, _ = await start(world, **{extensions.AUTHN_PROVIDER: "https://unknown.example"})
    assert "/bankid/start" in unknown.text and 'name="pin"' in unknown.text


@pytest.mark.parametrize("way", ["bankid", "pin"])
async def test_the_id_token_says_which_way_in_the_citizen_took(world: World, way: str) -> None:
    resp, flow = await start(world)
    if way == "bankid":
        final = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp), PNR)
    else:
        final = await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN, "1234")
    tokens = (await citizen.redeem(world.http, flow, citizen.query_of(
        final.headers["location"])["code"])).json()
    claims = citizen.decode(tokens["id_token"], await citizen.jwks(world.http))
    assert claims[extensions.AUTHN_PROVIDER_CLAIM] == extensions.provider_uri(
        way, world.settings.issuer)


async def test_discovery_lists_the_extensions(world: World) -> None:
    meta = (await world.http.get("/.well-known/openid-configuration")).json()
    assert meta["https://id.oidc.se/disco/userMessageSupported"] is True
    assert meta["https://id.oidc.se/disco/userMessageSupportedMimeTypes"] == [
        "text/plain", "text/markdown"]
    assert meta["https://id.oidc.se/disco/authnProviderSupported"] is True
    assert extensions.AUTHN_PROVIDER_CLAIM in meta["claims_supported"]

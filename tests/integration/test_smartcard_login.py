"""Smart-card login in-process: offered only where a card listener is configured, and a
certificate header believed only from a trusted proxy. (Real TLS through HAProxy:
tests/ha/test_smartcard.py.)"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ha import pki
from tests.conftest import World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
CARD_URL = "https://127.0.0.1:9446"
WITH_CARDS = {"smartcard__login_url": CARD_URL}
TRUSTING_LOOPBACK = {**WITH_CARDS, "trusted_proxies": "127.0.0.1"}


@pytest.fixture(scope="module")
def citizen_card(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("cards")
    kit = pki.card_kit(base / "cards", server_ca=pki.make_ca(base / "ca"))
    cert = x509.load_pem_x509_certificate(Path(kit.cards["citizen"].cert).read_bytes())
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


async def login(world: World) -> str:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    return citizen.login_url(resp).rsplit("/", 1)[1]


async def test_without_a_card_listener_the_card_is_not_offered(world: World) -> None:
    tx = await login(world)
    assert "/smartcard" not in (await world.browser.get(f"/login/{tx}")).text
    assert (await world.browser.get(f"/login/{tx}/smartcard")).status_code == 403


@pytest.mark.parametrize("world", [WITH_CARDS], indirect=True)
async def test_the_card_page_sends_the_citizen_to_the_card_listener(world: World) -> None:
    tx = await login(world)
    assert f"/login/{tx}/smartcard" in (await world.browser.get(f"/login/{tx}")).text
    page = await world.browser.get(f"/login/{tx}/smartcard?lang=en")
    assert page.status_code == 200 and f"{CARD_URL}/card/{tx}?lang=en" in page.text


@pytest.mark.parametrize("world", [WITH_CARDS], indirect=True)
async def test_a_certificate_header_from_an_untrusted_peer_is_ignored(
        world: World, citizen_card: str) -> None:
    tx = await login(world)
    page = await world.browser.get(f"/card/{tx}", headers={
        "X-Client-Cert": citizen_card, "X-Client-Cert-Verify": "0"})
    assert page.status_code == 401  # as if no card had been presented


@pytest.mark.parametrize("world", [TRUSTING_LOOPBACK], indirect=True)
async def test_from_the_trusted_listener_a_good_card_goes_back_to_the_login(
        world: World, citizen_card: str) -> None:
    tx = await login(world)
    back = await world.browser.get(f"/card/{tx}", headers={
        "X-Client-Cert": citizen_card, "X-Client-Cert-Verify": "0"})
    assert back.status_code == 303
    done = await world.browser.get(back.headers["location"].removeprefix(str(
        world.browser.base_url).rstrip("/")))
    assert done.status_code == 303 and "code=" in done.headers["location"]


@pytest.mark.parametrize("world", [TRUSTING_LOOPBACK], indirect=True)
async def test_a_login_id_that_is_no_id_gets_not_found(world: World, citizen_card: str) -> None:
    page = await world.browser.get("/card/..%2F..%2Fevil", headers={
        "X-Client-Cert": citizen_card, "X-Client-Cert-Verify": "0"})
    assert page.status_code == 404

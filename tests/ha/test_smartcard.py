"""Smart-card login through the running cluster: real client certificates (``idportal
pki``'s test cards) over real TLS to HAProxy's card listener, which verifies them
against the card CA and its CRL; the login finishes on the login host."""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ha import cluster as clustermod
from service import loa
from service.oidc import extensions
from service.oidc.claims import EMPLOYEE_ID, PNR, SCOPE_EMPLOYEE
from tests.ha.test_edge import browser, redirect_uri, tls
from tests.helpers import citizen

pytestmark = pytest.mark.ha
SECRET = "demo-mina-sidor-secret-NOT-FOR-PRODUCTION-7f3a9c"
SCOPE = ["openid", "profile", "https://id.oidc.se/scope/naturalPersonNumber", SCOPE_EMPLOYEE]


@pytest.fixture(scope="module")
def info(cluster: clustermod.Cluster) -> dict[str, Any]:
    return clustermod.describe(cluster)


def card_files(info: dict[str, Any], kind: str) -> tuple[Path, Path]:
    folder = Path(info["cards_dir"])
    return folder / f"card-{kind}.pem", folder / f"card-{kind}-key.pem"


@contextlib.asynccontextmanager
async def card_reader(info: dict[str, Any], kind: str = "") -> AsyncIterator[httpx.AsyncClient]:
    """The browser's TLS connection to the card listener, presenting the ``kind`` card
    (none when empty)."""
    ctx = tls(info)
    if kind:
        cert, key = card_files(info, kind)
        ctx.load_cert_chain(cert, key)
    async with httpx.AsyncClient(base_url=info["card_url"], verify=ctx, timeout=20) as reader:
        yield reader


async def start(b: httpx.AsyncClient, info: dict[str, Any]) -> tuple[str, citizen.Flow]:
    resp, flow = await citizen.start(b, "mina-sidor", redirect_uri=redirect_uri(info, "mina-sidor"),
                                     scope=" ".join(SCOPE))
    assert "/smartcard" in resp.text  # offered on the method page
    return citizen.login_url(resp).rsplit("/", 1)[1], flow


async def present(info: dict[str, Any], tx: str, kind: str, *,
                  lang: str = "sv", headers: dict[str, str] | None = None) -> httpx.Response:
    async with card_reader(info, kind) as reader:
        return await reader.get(f"/card/{tx}?lang={lang}", headers=headers)


async def card_login(info: dict[str, Any], kind: str) -> dict[str, Any]:
    async with browser(info) as b:
        tx, flow = await start(b, info)
        page = await b.get(f"/login/{tx}/smartcard")
        assert page.status_code == 200 and f'{info["card_url"]}/card/{tx}' in page.text
        back = await present(info, tx, kind)
        assert back.status_code == 303, back.text[:300]
        done = back.headers["location"]
        assert done.startswith(f'{info["issuer"]}/login/{tx}/smartcard/done?proof=')
        final = await b.get(done)
        assert final.status_code == 303, final.text[:300]
        code = citizen.query_of(final.headers["location"])["code"]
        tokens = await b.post("/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
            "code_verifier": flow.verifier}, headers=citizen.basic("mina-sidor", SECRET))
        assert tokens.status_code == 200, tokens.text
        return citizen.decode(tokens.json()["id_token"], await citizen.jwks(b))


async def test_a_citizen_logs_in_with_their_card_at_loa3(info: dict[str, Any]) -> None:
    claims = await card_login(info, "citizen")
    assert claims[PNR] == "198112189876" and claims["given_name"] == "Anna"
    assert claims["acr"] == loa.UNCERTIFIED_LOA3
    assert claims[extensions.AUTHN_PROVIDER_CLAIM] == extensions.provider_uri(
        "smartcard", info["issuer"])
    assert EMPLOYEE_ID not in claims  # a citizen's card has no employee id


async def test_a_staff_card_gives_the_employee_id_claim(info: dict[str, Any]) -> None:
    claims = await card_login(info, "staff")
    assert claims[PNR] == "196111091077" and claims[EMPLOYEE_ID] == "EMP-004711"


@pytest.mark.parametrize(("kind", "sv", "en"), [
    ("revoked", "Kortet är spärrat", "The card has been revoked"),
    ("expired", "har gått ut", "has expired"),
    ("untrusted", "inte litar på", "does not trust"),
    ("no-number", "inget personnummer", "no personal identity number"),
])
async def test_a_card_that_cannot_log_in_gets_a_page_saying_why_in_both_languages(
        info: dict[str, Any], kind: str, sv: str, en: str) -> None:
    async with browser(info) as b:
        tx, _ = await start(b, info)
        for lang, text in (("sv", sv), ("en", en)):
            page = await present(info, tx, kind, lang=lang)
            assert page.status_code == 403 and text in page.text, (kind, page.text[:500])
            assert f'{info["issuer"]}/login/{tx}' in page.text  # another way in
            assert re.search(r"[0-9a-f-]{36}", page.text)  # the support reference
        # The login is still there: the citizen can choose BankID instead.
        assert (await b.get(f"/login/{tx}")).status_code == 200


async def test_no_card_presented_gets_a_page_not_a_browser_error(info: dict[str, Any]) -> None:
    async with browser(info) as b:
        tx, _ = await start(b, info)
        page = await present(info, tx, "")
    assert page.status_code == 401 and "Inget kort" in page.text


def der_b64(info: dict[str, Any], kind: str) -> str:
    cert = x509.load_pem_x509_certificate(card_files(info, kind)[0].read_bytes())
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


async def test_a_forged_certificate_header_from_a_client_is_never_believed(
        info: dict[str, Any]) -> None:
    forged = {"X-Client-Cert": der_b64(info, "citizen"), "X-Client-Cert-Verify": "0"}
    async with browser(info) as b:
        tx, _ = await start(b, info)
        # No card, a citizen's certificate in the header: the listener removes it.
        assert (await present(info, tx, "", headers=forged)).status_code == 401
        # A revoked card, the header claiming a good one: the real card counts.
        revoked = await present(info, tx, "revoked", headers=forged)
        assert revoked.status_code == 403 and "spärrat" in revoked.text
        # The login host never serves the card step.
        assert (await b.get(f"/card/{tx}", headers=forged)).status_code == 404


async def test_a_card_proof_is_bound_to_its_login_and_its_browser(info: dict[str, Any]) -> None:
    async with browser(info) as b, browser(info) as other:
        tx, _ = await start(b, info)
        tx_other, _ = await start(other, info)
        proof = (await present(info, tx, "citizen")).headers["location"].split("proof=")[1]
        # Another browser cannot use it, not even for its own login.
        assert (await other.get(f"/login/{tx}/smartcard/done?proof={proof}")).status_code == 410
        assert (await other.get(f"/login/{tx_other}/smartcard/done?proof={proof}")
                ).status_code == 403
        # A changed proof is refused; the right browser finishes with the real one.
        bad = proof[:-2] + ("AA" if not proof.endswith("AA") else "BB")
        assert (await b.get(f"/login/{tx}/smartcard/done?proof={bad}")).status_code == 403
        assert (await b.get(f"/login/{tx}/smartcard/done?proof={proof}")).status_code == 303

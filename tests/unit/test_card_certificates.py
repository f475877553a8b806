"""Reading a card as the card listener hands it over: the listener's verdict, the node's
own check against the trusted card CAs, and the person on the card."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ha import pki
from service.login import smartcard
from service.providers import card_certificates as cards


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> pki.CardKit:
    base = tmp_path_factory.mktemp("cards")
    return pki.card_kit(base / "cards", server_ca=pki.make_ca(base / "server-ca"))


def header(issued: pki.Issued) -> str:
    cert = x509.load_pem_x509_certificate(issued.cert.read_bytes())
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def anchors(kit: pki.CardKit) -> tuple[x509.Certificate, ...]:
    return cards.load_anchors(kit.card_ca.cert.read_bytes())


def test_a_citizens_card_names_the_person_and_its_evidence(kit: pki.CardKit) -> None:
    holder = cards.read(header(kit.cards["citizen"]), "0", anchors(kit), now())
    assert holder.person.digits == "198112189876"
    assert (holder.given_name, holder.family_name, holder.employee_id) == ("Anna", "Andersson", "")
    assert holder.evidence.startswith("card:idportal test card CA:")


def test_a_staff_card_also_names_the_employee_id(kit: pki.CardKit) -> None:
    holder = cards.read(header(kit.cards["staff"]), "0", anchors(kit), now())
    assert holder.person.digits == "196111091077" and holder.employee_id == "EMP-004711"


@pytest.mark.parametrize(("code", "reason"), [
    ("10", "expired"), ("9", "expired"), ("23", "revoked"), ("20", "untrusted"),
    ("19", "untrusted"), ("3", "revocation_unknown"), ("12", "revocation_unknown"),
    ("999", "untrusted"), ("", "unreadable"), ("zero", "unreadable")])
def test_the_listeners_verdict_refuses_with_the_reason_the_page_explains(
        kit: pki.CardKit, code: str, reason: str) -> None:
    with pytest.raises(cards.CardRefused) as refused:
        cards.read(header(kit.cards["citizen"]), code, anchors(kit), now())
    assert refused.value.reason == reason and reason in cards.REASONS


def test_a_card_of_another_ca_is_refused_even_when_the_listener_said_yes(
        kit: pki.CardKit) -> None:
    # A listener misconfigured to skip verification: the node's own check still holds.
    with pytest.raises(cards.CardRefused) as refused:
        cards.read(header(kit.cards["untrusted"]), "0", anchors(kit), now())
    assert refused.value.reason == "untrusted"


def test_an_expired_card_is_refused_by_the_nodes_own_check(kit: pki.CardKit) -> None:
    with pytest.raises(cards.CardRefused, match="expired"):
        cards.read(header(kit.cards["expired"]), "0", anchors(kit), now())


def test_a_card_without_a_personal_number_is_refused(kit: pki.CardKit) -> None:
    with pytest.raises(cards.CardRefused) as refused:
        cards.read(header(kit.cards["no-number"]), "0", anchors(kit), now())
    assert refused.value.reason == "no_personal_number"


@pytest.mark.parametrize(("value", "reason"), [
    ("", "no_card"), ("not base64!", "unreadable"), (base64.b64encode(b"junk").decode(),
                                                     "unreadable"), ("A" * 20_000, "unreadable")])
def test_a_header_that_is_no_certificate_is_refused(value: str, reason: str) -> None:
    with pytest.raises(cards.CardRefused) as refused:
        cards.read(value, "0", (), now())
    assert refused.value.reason == reason


def test_a_sealed_card_proof_opens_only_for_its_login_and_while_fresh(
        kit: pki.CardKit, tmp_path: Path) -> None:
    holder = cards.read(header(kit.cards["staff"]), "0", anchors(kit), now())
    key, other_key = b"k" * 32, b"o" * 32
    sealed = smartcard.seal(holder, "tx-aaaaaaaaaaaaaaaa", key, now=1000)
    proof = smartcard.unseal(sealed, "tx-aaaaaaaaaaaaaaaa", key, now=1030, max_age=60)
    assert proof is not None and proof.person == holder.person and proof.level == 3
    assert proof.employee_id == "EMP-004711" and proof.method == "smartcard"
    assert smartcard.unseal(sealed, "tx-bbbbbbbbbbbbbbbb", key, now=1030, max_age=60) is None
    assert smartcard.unseal(sealed, "tx-aaaaaaaaaaaaaaaa", other_key, now=1030, max_age=60) is None
    assert smartcard.unseal(sealed, "tx-aaaaaaaaaaaaaaaa", key, now=1061, max_age=60) is None
    assert smartcard.unseal(sealed[:-3], "tx-aaaaaaaaaaaaaaaa", key, now=1030, max_age=60) is None
    assert smartcard.unseal("%%%", "tx-aaaaaaaaaaaaaaaa", key, now=1030, max_age=60) is None


def test_a_node_reports_when_each_certificate_it_uses_expires(
        kit: pki.CardKit, tmp_path: Path) -> None:
    from service import certificates
    from service.settings import Settings

    settings = Settings.model_validate({
        "smartcard": {"trust_file": str(kit.card_ca.cert)},
        "watched_certificates": {"front_door": str(kit.listener.cert)}})
    watched = certificates.watched(settings)
    assert watched["card_ca"] == str(kit.card_ca.cert)
    assert watched["front_door"] == str(kit.listener.cert)
    listener = x509.load_pem_x509_certificate(kit.listener.cert.read_bytes())
    assert certificates.expiry(str(kit.listener.cert)) == listener.not_valid_after_utc.timestamp()
    assert certificates.expiry(str(tmp_path / "missing.pem")) is None

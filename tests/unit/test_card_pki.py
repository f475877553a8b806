"""``idportal pki``: test cards for the smart-card login. Each kind is what it claims,
checked by a real TLS handshake that verifies client certificates against the card CA
and its CRL, as the card listener will."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from ha import pki
from service import cli


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> pki.CardKit:
    base = tmp_path_factory.mktemp("pki")
    return pki.card_kit(base / "cards", server_ca=pki.make_ca(base / "server-ca"))


def cert(issued: pki.Issued) -> x509.Certificate:
    return x509.load_pem_x509_certificate(issued.cert.read_bytes())


def test_cards_carry_the_personal_number_in_serial_number_and_staff_their_employee_id(
        kit: pki.CardKit) -> None:
    serial = lambda c: c.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value  # noqa: E731
    assert serial(cert(kit.cards["citizen"])) == "198112189876"
    assert serial(cert(kit.cards["staff"])) == "196111091077"
    assert cert(kit.cards["staff"]).subject.get_attributes_for_oid(
        NameOID.USER_ID)[0].value == "EMP-004711"
    assert serial(cert(kit.cards["no-number"])) == "SIGN-0042"
    assert cert(kit.cards["expired"]).not_valid_after_utc < dt.datetime.now(dt.UTC)
    revoked = x509.load_pem_x509_crl(kit.crl.read_bytes())
    assert revoked.get_revoked_certificate_by_serial_number(
        cert(kit.cards["revoked"]).serial_number) is not None


def handshake(kit: pki.CardKit, server_ca: Path, card: pki.Issued) -> bool:
    """A TLS server verifying client certificates against the card CA and its CRL (leaf
    check), and a client presenting ``card``: does the handshake complete?"""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(kit.listener.cert, kit.listener.key)
    server.verify_mode = ssl.CERT_REQUIRED
    server.load_verify_locations(cafile=str(kit.card_ca.cert))
    server.load_verify_locations(cafile=str(kit.crl))
    server.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    client = ssl.create_default_context(cafile=str(server_ca))
    client.load_cert_chain(card.cert, card.key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    outcome: list[bool] = []

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with server.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
                outcome.append(True)
        except (ssl.SSLError, OSError):
            outcome.append(False)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                client.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"x")
    except (ssl.SSLError, OSError):
        pass
    thread.join(timeout=10)
    listener.close()
    return outcome == [True]


@pytest.mark.parametrize(("kind", "accepted"), [
    ("citizen", True), ("staff", True), ("no-number", True), ("revoked", False),
    ("expired", False),
    ("untrusted", False)])
def test_a_card_listener_accepts_exactly_the_valid_cards(kit: pki.CardKit, kind: str,
                                                         accepted: bool) -> None:
    server_ca = kit.folder.parent / "server-ca" / "ca.pem"
    assert handshake(kit, server_ca, kit.cards[kind]) is accepted


def test_the_command_makes_the_kit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["pki", "--dir", str(tmp_path / "cards"),
                     "--server-ca-dir", str(tmp_path / "ca")]) == 0
    out = capsys.readouterr().out
    for kind in ("citizen", "staff", "no-number", "revoked", "expired", "untrusted"):
        assert f"card {kind}:" in out
    assert (tmp_path / "cards" / "card-ca.crl.pem").exists()
    from cryptography.hazmat.primitives.serialization import pkcs12

    bundle = pkcs12.load_pkcs12((tmp_path / "cards" / "card-citizen.p12").read_bytes(),
                                pki.P12_PASSWORD)
    assert bundle.cert is not None and bundle.key is not None

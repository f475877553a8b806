"""A local certificate authority for loopback TLS: HAProxy's and the nodes' server
certificates, the BankID simulator's server certificate, and the RP client
certificate for mutual TLS toward the BankID RP API. Test material only."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12 as pkcs12_mod
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _name(cn: str, serial_number: str = "", *, given: str = "", surname: str = "",
          uid: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idportal local test"),
             x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    for oid, value in ((NameOID.SERIAL_NUMBER, serial_number), (NameOID.GIVEN_NAME, given),
                       (NameOID.SURNAME, surname), (NameOID.USER_ID, uid)):
        if value:
            attrs.append(x509.NameAttribute(oid, value))
    return x509.Name(attrs)


def make_ca(folder: Path, name: str = "idportal local CA") -> Issued:
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "ca.pem", folder / "ca-key.pem"
    if cert_path.exists() and key_path.exists():
        return Issued(cert_path, key_path)
    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)
    return Issued(cert_path, key_path)


def issue(ca: Issued, folder: Path, stem: str, *, cn: str, server: bool = True,
          client: bool = False, serial_number: str = "", days: int = 400,
          expired: bool = False, uid: str = "", ips: tuple[str, ...] = ()) -> Issued:
    """A leaf certificate for 127.0.0.1/localhost (server) and/or a client; ``expired``:
    one whose validity ended yesterday (a test card)."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = _key()
    now = dt.datetime.now(dt.UTC) - (dt.timedelta(days=days + 1) if expired else dt.timedelta())
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + (
        [ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
    given, _, surname = cn.partition(" ") if not server else ("", "", "")
    builder = (x509.CertificateBuilder().subject_name(
                   _name(cn, serial_number, given=given, surname=surname, uid=uid))
               .issuer_name(ca_cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), *(x509.IPAddress(ipaddress.ip_address(a))
                                          for a in ("127.0.0.1", *ips))]),
            critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)
    return Issued(cert_path, key_path)


def bundle(issued: Issued, path: Path) -> Path:
    """Certificate + key in one PEM (HAProxy's ``crt``)."""
    path.write_bytes(issued.cert.read_bytes() + issued.key.read_bytes())
    path.chmod(0o600)
    return path


def crl(ca: Issued, revoked: list[Path], path: Path, *, days: int = 30) -> Path:
    """A certificate revocation list of ``ca`` naming the ``revoked`` certificates."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
               .last_update(now - dt.timedelta(minutes=5))
               .next_update(now + dt.timedelta(days=days)))
    for cert_path in revoked:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
            .revocation_date(now - dt.timedelta(minutes=1)).build())
    path.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM))
    return path


@dataclass(frozen=True)
class CardKit:
    """Test material for the smart-card login: the card CA and its CRL, the listener's
    server certificate, and cards (client certificates) of every kind."""

    folder: Path
    card_ca: Issued
    crl: Path
    listener: Issued
    cards: dict[str, Issued]


def card_kit(folder: Path, *, server_ca: Issued, ips: tuple[str, ...] = ()) -> CardKit:
    """``idportal pki``: a card CA (as a card issuer's), a CRL, the card listener's server
    certificate (from ``server_ca``, the local CA HAProxy's certificates come from), and
    client certificates: a citizen's (serialNumber the personal number), a staff card's
    (also its employee id in UID), a revoked, an expired, an untrusted one (from a CA
    nobody trusts), and one without a personal number (a signing certificate)."""
    folder.mkdir(parents=True, exist_ok=True)
    card_ca = make_ca(folder / "card-ca", "idportal test card CA")
    cards = {
        "citizen": issue(card_ca, folder, "card-citizen", cn="Anna Andersson", server=False,
                         client=True, serial_number="198112189876"),
        "staff": issue(card_ca, folder, "card-staff", cn="Per Nilsson", server=False,
                       client=True, serial_number="196111091077", uid="EMP-004711"),
        "no-number": issue(card_ca, folder, "card-no-number", cn="Anna Andersson",
                           server=False, client=True, serial_number="SIGN-0042"),
        "revoked": issue(card_ca, folder, "card-revoked", cn="Rolf Revokerad", server=False,
                         client=True, serial_number="194001011008"),
        "expired": issue(card_ca, folder, "card-expired", cn="Eva Utgången", server=False,
                         client=True, serial_number="198112189876", days=30, expired=True),
    }
    stranger = make_ca(folder / "untrusted-ca", "nobody's CA")
    cards["untrusted"] = issue(stranger, folder, "card-untrusted", cn="Okänd", server=False,
                               client=True, serial_number="198112189876")
    revocations = crl(card_ca, [cards["revoked"].cert], folder / "card-ca.crl.pem")
    listener = issue(server_ca, folder, "card-listener", cn="idportal card login", ips=ips)
    for kind, card in cards.items():
        pkcs12(card, folder / f"card-{kind}.p12", name=f"idportal test card ({kind})")
    return CardKit(folder, card_ca, revocations, listener, cards)


P12_PASSWORD = b"idportal"  # test cards only: what a browser asks for on import


def pkcs12(issued: Issued, path: Path, *, name: str) -> Path:
    """Certificate and key as a PKCS#12 file, to import into a browser as a card."""
    key = serialization.load_pem_private_key(issued.key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert = x509.load_pem_x509_certificate(issued.cert.read_bytes())
    path.write_bytes(pkcs12_mod.serialize_key_and_certificates(
        name.encode(), key, cert, None,
        serialization.BestAvailableEncryption(P12_PASSWORD)))
    path.chmod(0o600)
    return path

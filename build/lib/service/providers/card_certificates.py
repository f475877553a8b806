"""Reading a smart card's certificate as the card listener handed it over. Pure: no I/O.

The front door (HAProxy's card listener) does the TLS handshake: it asks for a client
certificate, checks it against the trusted card CAs and their CRLs, and passes the
certificate (``X-Client-Cert``: base64 DER) and OpenSSL's verdict (``X-Client-Cert-Verify``:
``ssl_c_verify``, 0 when valid) to a node; it removes both headers from every request a
client sends. A node believes them only from a trusted proxy (``login.smartcard``).

Here the verdict becomes either a ``CardHolder`` (the personal number from the subject's
``serialNumber``, the names, an employee id from ``UID`` on a staff card, the evidence)
or a ``CardRefused`` whose ``reason`` picks the page the citizen sees. With trust anchors
configured the node checks again that the certificate was issued by one of them and is
within its validity: a proxy that was misconfigured to skip the check cannot let a
self-made certificate in.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from service.personnummer import InvalidPersonalNumber, PersonalNumber, parse

# OpenSSL's X509_V_ERR_* numbers as HAProxy reports them in ssl_c_verify.
_EXPIRED = {9, 10}  # not yet valid, has expired
_REVOKED = {23}
_UNTRUSTED = {2, 7, 18, 19, 20, 21, 24, 27, 28, 30, 31, 32, 34}
_CRL_PROBLEM = {3, 11, 12, 13, 14, 15, 16, 33, 35, 36, 41, 42, 43, 44}
MAX_HEADER = 16_384  # a card certificate is 1-3 KB; a larger header is not one

REASONS = ("no_card", "expired", "revoked", "untrusted", "unreadable", "no_personal_number",
           "revocation_unknown")


class CardRefused(ValueError):
    """The card cannot log anyone in; ``reason`` is one of ``REASONS``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CardHolder:
    person: PersonalNumber
    given_name: str
    family_name: str
    employee_id: str  # a staff card's UID ('' on a citizen's card)
    evidence: str  # "card:<issuer CN>:<serial hex>:<sha-256 prefix>"


def verdict(code: str) -> None:
    """Raise the refusal HAProxy's ``ssl_c_verify`` code stands for (0: none)."""
    try:
        number = int(code)
    except ValueError:
        raise CardRefused("unreadable", "no verification result") from None
    if number == 0:
        return
    if number in _EXPIRED:
        raise CardRefused("expired", f"X509_V_ERR {number}")
    if number in _REVOKED:
        raise CardRefused("revoked", f"X509_V_ERR {number}")
    if number in _CRL_PROBLEM:
        # Fail closed: a card whose revocation cannot be checked is not accepted.
        raise CardRefused("revocation_unknown", f"X509_V_ERR {number}")
    if number in _UNTRUSTED:
        raise CardRefused("untrusted", f"X509_V_ERR {number}")
    raise CardRefused("untrusted", f"X509_V_ERR {number}")


def decode(header: str) -> x509.Certificate:
    """The certificate from the listener's header (base64 DER)."""
    if not header or len(header) > MAX_HEADER:
        raise CardRefused("no_card" if not header else "unreadable")
    try:
        return x509.load_der_x509_certificate(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError):
        raise CardRefused("unreadable", "not a DER certificate") from None


def check_trust(cert: x509.Certificate, anchors: tuple[x509.Certificate, ...],
                now: dt.datetime) -> None:
    """Issued by one of ``anchors`` (a CA or intermediate of the bundle) and valid now."""
    if now < cert.not_valid_before_utc or now > cert.not_valid_after_utc:
        raise CardRefused("expired", "outside its validity")
    for anchor in anchors:
        if anchor.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(anchor)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return
    raise CardRefused("untrusted", "not issued by a trusted card CA")


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    value = values[0].value if values else ""
    return value.decode() if isinstance(value, bytes) else str(value)


def holder(cert: x509.Certificate) -> CardHolder:
    """Who the card belongs to: the personal number in the subject's ``serialNumber``."""
    subject = cert.subject
    serial = _attr(subject, NameOID.SERIAL_NUMBER).strip()
    try:
        person = parse(serial)
    except InvalidPersonalNumber as exc:
        raise CardRefused("no_personal_number", str(exc)) from None
    given = _attr(subject, NameOID.GIVEN_NAME)
    family = _attr(subject, NameOID.SURNAME)
    if not (given or family):  # an older card: only the common name
        given, _, family = _attr(subject, NameOID.COMMON_NAME).partition(" ")
    fingerprint = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()[:32]
    issuer = _attr(cert.issuer, NameOID.COMMON_NAME)[:64].replace(":", " ")
    return CardHolder(person=person, given_name=given[:100], family_name=family[:100],
                      employee_id=_attr(subject, NameOID.USER_ID)[:64],
                      evidence=f"card:{issuer}:{cert.serial_number:x}:{fingerprint}")


def read(header: str, verify_code: str, anchors: tuple[x509.Certificate, ...],
         now: dt.datetime) -> CardHolder:
    """The card holder, or ``CardRefused``: the listener's verdict first, then (with
    ``anchors``) the node's own check, then the subject."""
    cert = decode(header)
    verdict(verify_code)
    if anchors:
        check_trust(cert, anchors, now)
    return holder(cert)


def load_anchors(pem: bytes) -> tuple[x509.Certificate, ...]:
    """The trusted card CAs (and intermediates) of a PEM bundle."""
    return tuple(x509.load_pem_x509_certificates(pem)) if pem.strip() else ()

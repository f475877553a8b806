"""The simulator's BankID signatures: an XML signature of the shape BankID returns in
``completionData.signature`` (base64), made with ``signxml``.

``bankIdSignedData`` holds ``usrVisibleData`` exactly as the RP sent it (base64),
``usrNonVisibleData``, ``srvInfo`` and ``clientInfo`` with ``funcId`` ``Signing``
(``Identification`` for an authentication); it is enveloped in an XML-DSig
``Signature`` (ECDSA-SHA256, C14N 1.0) made with the citizen's own key, whose
certificate (serialNumber: the personal number) the simulator's root CA issued, as a
bank issues a BankID. The chain is in ``KeyInfo``; an e-service verifies it against the
root (``SimulatorKeys.ca_pem``, served at ``/ca.pem``). A fresh root is made at start-up:
nothing secret is on disk.
"""

from __future__ import annotations

import base64
import datetime
import secrets
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import methods
from signxml.signer import XMLSigner

NS = "http://www.bankid.com/signature/v1.0.0/types"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


@dataclass(frozen=True)
class SimulatorKeys:
    ca_key: rsa.RSAPrivateKey
    ca: x509.Certificate
    # Each citizen's key and certificate chain (PEM), made at their first signature and kept,
    # as a bank issues a BankID once: (personal number, name) → (key, certificate chain).
    citizens: dict[tuple[str, str], tuple[ec.EllipticCurvePrivateKey, list[str]]] = field(
        default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def ca_pem(self) -> bytes:
        return self.ca.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, serial: str = "") -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idportal BankID simulator"),
                  x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if serial:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    return x509.Name(attributes)


def _valid(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return builder.serial_number(x509.random_serial_number()).not_valid_before(
        now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=365))


def make_keys() -> SimulatorKeys:
    """The simulator's root CA (RSA-2048, valid a year)."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (_valid(x509.CertificateBuilder()).subject_name(_name("BankID simulator root CA"))
          .issuer_name(_name("BankID simulator root CA")).public_key(ca_key.public_key())
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    return SimulatorKeys(ca_key, ca)


MAX_CITIZENS = 10_000  # kept at once (a load test's population); then made anew


def _citizen(keys: SimulatorKeys, personal_number: str,
             name: str) -> tuple[ec.EllipticCurvePrivateKey, list[str]]:
    """A citizen's signing key and its certificate from the simulator's root: made at
    their first signature (1.3 ms: an RSA signature by the root) and kept."""
    kept = keys.citizens.get((personal_number, name))
    if kept is None:
        if len(keys.citizens) >= MAX_CITIZENS:
            keys.citizens.clear()
        kept = keys.citizens[(personal_number, name)] = _issue(keys, personal_number, name)
    return kept


def _issue(keys: SimulatorKeys, personal_number: str,
           name: str) -> tuple[ec.EllipticCurvePrivateKey, list[str]]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_valid(x509.CertificateBuilder()).subject_name(_name(name, personal_number))
            .issuer_name(keys.ca.subject).public_key(key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False), critical=True)
            .sign(keys.ca_key, hashes.SHA256()))
    return key, [cert.public_bytes(serialization.Encoding.PEM).decode(), keys.ca_pem.decode()]


def sign(keys: SimulatorKeys, *, visible_b64: str, non_visible_b64: str, signing: bool,
         personal_number: str, name: str) -> str:
    """``completionData.signature``: base64 of the signed XML document."""
    data = etree.Element(f"{{{NS}}}bankIdSignedData", nsmap={None: NS}, Id="bidSignedData")
    if visible_b64:
        usr = etree.SubElement(data, f"{{{NS}}}usrVisibleData", charset="UTF-8",
                               visible="wysiwys")
        usr.text = visible_b64
    if non_visible_b64:
        etree.SubElement(data, f"{{{NS}}}usrNonVisibleData").text = non_visible_b64
    srv = etree.SubElement(data, f"{{{NS}}}srvInfo")
    etree.SubElement(srv, f"{{{NS}}}name").text = base64.b64encode(
        b"cn=idportal,o=idportal BankID simulator").decode()
    etree.SubElement(srv, f"{{{NS}}}nonce").text = base64.b64encode(
        secrets.token_bytes(20)).decode()
    etree.SubElement(srv, f"{{{NS}}}displayName").text = base64.b64encode(b"idportal").decode()
    client = etree.SubElement(data, f"{{{NS}}}clientInfo")
    etree.SubElement(client, f"{{{NS}}}funcId").text = "Signing" if signing else "Identification"
    etree.SubElement(client, f"{{{NS}}}version").text = "Personal=8.0.0.1&Simulator=1"
    env = etree.SubElement(client, f"{{{NS}}}env")
    ai = etree.SubElement(env, f"{{{NS}}}ai")
    etree.SubElement(ai, f"{{{NS}}}type").text = "SIMULATOR"
    etree.SubElement(ai, f"{{{NS}}}deviceInfo").text = "idportal"
    etree.SubElement(ai, f"{{{NS}}}uhi").text = "OZvYM9VvyiAmG7NA5jU5zRGcSI1Ej"
    etree.SubElement(ai, f"{{{NS}}}fsib").text = "0"
    etree.SubElement(ai, f"{{{NS}}}utb").text = "cs1"
    etree.SubElement(ai, f"{{{NS}}}requirement")
    etree.SubElement(ai, f"{{{NS}}}uauth").text = "pw"
    key, chain = _citizen(keys, personal_number, name)
    signer = XMLSigner(method=methods.enveloping, signature_algorithm="ecdsa-sha256",
                       digest_algorithm="sha256", c14n_algorithm=C14N)
    signed = signer.sign(data, key=key, cert=chain)
    return base64.b64encode(etree.tostring(signed, xml_declaration=True,
                                           encoding="UTF-8")).decode()

"""idportal's own signatures (``oidc.compact_jws``) are read by joserfc as it reads any
JWS: both algorithms, non-ASCII claims, and a key that does not match its algorithm is
refused before anything is signed. Its ``verify`` reads them back and refuses every
forgery and malformed token tried here."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jwt

from service.oidc import compact_jws, keyring


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> keyring.KeyRing:
    folder = tmp_path_factory.mktemp("keys")
    keyring.generate(folder)
    return keyring.load(Path(folder), publish_for=900)


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_joserfc_verifies_what_the_ring_signs(ring: keyring.KeyRing, alg: str) -> None:
    claims = {"iss": "https://idp.test", "sub": "x", "name": "Åsa Öberg", "n": 2**40,
              "amr": ["bankid"], "nested": {"a": True}}
    token = ring.sign(claims, alg=alg, typ="at+jwt")
    decoded = jwt.decode(token, ring.published, algorithms=[alg])
    assert dict(decoded.claims) == claims
    assert decoded.header == {"alg": alg, "kid": ring.signing[alg].kid, "typ": "at+jwt"}
    assert "=" not in token and token.count(".") == 2


def test_a_key_of_the_other_kind_is_refused(ring: keyring.KeyRing) -> None:
    with pytest.raises(ValueError, match="cannot sign"):
        compact_jws.sign({"alg": "ES256"}, {}, ring.signing["RS256"].private_key)
    with pytest.raises(ValueError, match="cannot sign"):
        compact_jws.sign({"alg": "none"}, {}, ring.signing["ES256"].private_key)


def _part(obj: object) -> str:
    return compact_jws._b64(orjson.dumps(obj)).decode()


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_verify_reads_back_what_the_ring_signs(ring: keyring.KeyRing, alg: str) -> None:
    claims = {"iss": "https://idp.test", "name": "Åsa Öberg", "n": 2**40}
    header, got = compact_jws.verify(ring.sign(claims, alg=alg, typ="at+jwt"), ring.verifying)
    assert got == claims and header["alg"] == alg and header["typ"] == "at+jwt"


def test_verify_refuses_forged_and_malformed_tokens(ring: keyring.KeyRing) -> None:
    es, rs = ring.signing["ES256"], ring.signing["RS256"]
    good = ring.sign({"sub": "x"})
    h64, c64, s64 = good.split(".")
    hs = base64.urlsafe_b64encode(hmac.new(
        es.public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo),
        f"{_part({'alg': 'HS256', 'kid': es.kid})}.{c64}".encode(), hashlib.sha256).digest())
    forged = {
        "alg none": f"{_part({'alg': 'none', 'kid': es.kid})}.{c64}.",
        "alg none with a signature": f"{_part({'alg': 'none', 'kid': es.kid})}.{c64}.{s64}",
        "HS256 keyed with the public key": f"{_part({'alg': 'HS256', 'kid': es.kid})}.{c64}."
                                           + hs.rstrip(b"=").decode(),
        "the RSA key's kid with ES256": f"{_part({'alg': 'ES256', 'kid': rs.kid})}.{c64}.{s64}",
        "an unknown kid": f"{_part({'alg': 'ES256', 'kid': 'other'})}.{c64}.{s64}",
        "no kid": f"{_part({'alg': 'ES256'})}.{c64}.{s64}",
        "a crit header": f"{_part({'alg': 'ES256', 'kid': es.kid, 'crit': ['x']})}.{c64}.{s64}",
        "another payload": f"{h64}.{_part({'sub': 'y'})}.{s64}",
        "padding": f"{h64}.{c64}.{s64}==",
        "the standard alphabet": f"{h64}.{c64}.{s64.replace('-', '+').replace('_', '/')}",
        "a short signature": f"{h64}.{c64}.{s64[:40]}",
        "a long signature": f"{h64}.{c64}.{s64}AAAA",
        "four parts": f"{good}.{s64}",
        "whitespace": f"{h64}.{c64}.{s64} ",
        "a header that is a list": f"{_part([1])}.{c64}.{s64}",
        "a header that is not JSON": f"{compact_jws._b64(b'{').decode()}.{c64}.{s64}",
        "a length no base64 has": f"{h64}.{c64}.{s64}A",
    }
    for what, token in forged.items():
        if token == good:
            continue  # s64 had no - or _ to swap
        with pytest.raises(ValueError):
            compact_jws.verify(token, ring.verifying)
            pytest.fail(f"{what} was accepted")


def test_verify_refuses_claims_that_are_not_an_object(ring: keyring.KeyRing) -> None:
    key = ring.signing["ES256"]
    token = compact_jws.sign({"alg": "ES256", "kid": key.kid}, [1, 2], key.private_key)  # type: ignore[arg-type]
    with pytest.raises(compact_jws.BadJWS, match="not an object"):
        compact_jws.verify(token, ring.verifying)

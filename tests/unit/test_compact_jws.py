"""idportal's own signatures (``oidc.compact_jws``) are read by joserfc as it reads any
JWS: both algorithms, non-ASCII claims, and a key that does not match its algorithm is
refused before anything is signed."""

from __future__ import annotations

from pathlib import Path

import pytest
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

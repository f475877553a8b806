from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from service.oidc import issued_tokens, keyring

ISS = "https://idp.test"


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> keyring.KeyRing:
    folder = tmp_path_factory.mktemp("k")
    keyring.generate(folder)
    return keyring.load(folder, publish_for=900)


def _b64(d: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()


def test_id_token_is_signed_with_the_published_kid(ring: keyring.KeyRing) -> None:
    t = issued_tokens.id_token(ring, issuer=ISS, client_id="c", sub="s", alg="ES256", now=100,
                        lifetime=300, auth_time=90, acr="a", sid="x", nonce="n",
                        access_token="at", code="cd")
    v = issued_tokens.verify(ring, t, issuer=ISS, typ="JWT", now=100)
    assert v.header["kid"] in {k["kid"] for k in ring.jwks()["keys"]}
    assert v.claims["exp"] == 400 and v.claims["nonce"] == "n" and "at_hash" in v.claims


def test_rs256_id_tokens_are_offered(ring: keyring.KeyRing) -> None:
    t = issued_tokens.id_token(ring, issuer=ISS, client_id="c", sub="s", alg="RS256", now=1,
                        lifetime=300, auth_time=1, acr="a", sid="x")
    assert issued_tokens.verify(ring, t, issuer=ISS, typ=None, now=1).header["alg"] == "RS256"


def test_alg_none_is_refused(ring: keyring.KeyRing) -> None:
    forged = _b64({"alg": "none", "typ": "at+jwt"}) + "." + _b64({"iss": ISS, "exp": 10**10}) + "."
    with pytest.raises(issued_tokens.InvalidToken):
        issued_tokens.verify(ring, forged, issuer=ISS, typ="at+jwt", now=1)


def test_hs256_signed_with_the_public_key_is_refused(ring: keyring.KeyRing) -> None:
    public = json.dumps(ring.jwks()["keys"][0]).encode()
    forged = jwt.encode({"alg": "HS256", "typ": "at+jwt"}, {"iss": ISS, "exp": 10**10},
                        OctKey.import_key(public), algorithms=["HS256"])
    with pytest.raises(issued_tokens.InvalidToken):
        issued_tokens.verify(ring, forged, issuer=ISS, typ="at+jwt", now=1)


def test_tampered_payload_is_refused(ring: keyring.KeyRing) -> None:
    t, _ = issued_tokens.access_token(ring, issuer=ISS, client_id="c", sub="s", scope=("openid",),
                               grant_id="g", now=1, lifetime=60, acr="a", auth_time=1)
    h, _, s = t.split(".")
    forged = h + "." + _b64({"iss": ISS, "exp": 10**10, "sub": "other", "gid": "g"}) + "." + s
    with pytest.raises(issued_tokens.InvalidToken):
        issued_tokens.verify(ring, forged, issuer=ISS, typ="at+jwt", now=1)


def test_expired_and_wrong_type_tokens_are_refused(ring: keyring.KeyRing) -> None:
    t, _ = issued_tokens.access_token(ring, issuer=ISS, client_id="c", sub="s", scope=(), grant_id="g",
                               now=1, lifetime=60, acr="a", auth_time=1)
    with pytest.raises(issued_tokens.InvalidToken):
        issued_tokens.verify(ring, t, issuer=ISS, typ="at+jwt", now=1000, leeway=0)
    with pytest.raises(issued_tokens.InvalidToken):
        issued_tokens.verify(ring, t, issuer=ISS, typ="logout+jwt", now=1)
    with pytest.raises(issued_tokens.InvalidToken):
        issued_tokens.verify(ring, t, issuer="https://other", typ="at+jwt", now=1)


def test_rotation_keeps_old_keys_published_until_their_tokens_expire(tmp_path: Path) -> None:
    keyring.generate(tmp_path, now=1000)
    old = keyring.load(tmp_path, publish_for=900, now=1000)
    token = old.sign({"iss": ISS, "exp": 2000})
    keyring.rotate(tmp_path, publish_for=900, now=1100)
    new = keyring.load(tmp_path, publish_for=900, now=1100)
    assert new.signing["ES256"].kid != old.signing["ES256"].kid
    # The age of the keys that sign is what the SigningKeyOld alert watches.
    assert (old.signing_since, new.signing_since) == (1000, 1100)
    issued_tokens.verify(new, token, issuer=ISS, typ=None, now=1100)
    later = keyring.load(tmp_path, publish_for=900, now=2100)
    with pytest.raises(issued_tokens.InvalidToken):
        issued_tokens.verify(later, token, issuer=ISS, typ=None, now=1100)
    _, pruned = keyring.rotate(tmp_path, publish_for=900, now=2100)
    assert old.signing["ES256"].kid in pruned


def test_subject_is_stable_and_not_the_personal_number(ring: keyring.KeyRing) -> None:
    assert ring.subject("198112189876") == ring.subject("198112189876")
    assert "198112189876" not in ring.subject("198112189876")
    assert ring.subject("198112189876") != ring.subject("198112180040")


def test_refresh_token_format_is_checked() -> None:
    assert issued_tokens.authorization_code is issued_tokens.refresh_token  # both name their grant
    t = issued_tokens.refresh_token("g" * 32)
    assert issued_tokens.split_refresh_token(t) == "g" * 32
    for bad in ("", "x", "a.b", "g" * 32 + ".short", "." * 80):
        assert issued_tokens.split_refresh_token(bad) is None

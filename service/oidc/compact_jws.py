"""Compact JWS (RFC 7515 §7.1) for the tokens idportal writes itself, signed with
``cryptography`` directly: ES256 (RFC 7518 §3.4: the signature is r ‖ s, 32 bytes each)
and RS256 (RSASSA-PKCS1-v1_5 with SHA-256). About 40 % less CPU per signature than
joserfc's ``jwt.encode`` (``BENCHMARKS.md``; a login signs two tokens, a refresh two).

``verify`` reads back only tokens idportal signed (an access token at userinfo, an
``id_token_hint``): the key is found by ``kid`` among idportal's own published keys and
must be of the header's algorithm, the three parts must be strict base64url, and a
``crit`` header is refused (RFC 7515 §4.1.11). What others sign (an e-service's client
assertion) is read by joserfc; the tests read every token signed here with joserfc and
with the e-services' own libraries, and try to break ``verify`` with forged ones."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from service.crypto import b64url, b64url_decode

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
# Three non-empty parts of the base64url alphabet, no padding (RFC 7515 §2, §7.1).
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class BadJWS(ValueError):
    """Not a token idportal signed: malformed, an unknown key, another algorithm than
    the key's, or a signature that does not verify."""


def _b64(data: bytes) -> bytes:
    return b64url(data).encode("ascii")


def sign(header: dict[str, Any], claims: dict[str, Any], key: Any) -> str:
    """``header.claims.signature``; ``key`` an EC P-256 (ES256) or RSA (RS256) private key,
    matching ``header["alg"]``."""
    signing_input = _b64(orjson.dumps(header)) + b"." + _b64(orjson.dumps(claims))
    alg = header["alg"]
    if alg == "ES256" and isinstance(key, ec.EllipticCurvePrivateKey) \
            and key.curve.name == "secp256r1":
        r, s = utils.decode_dss_signature(key.sign(signing_input, _ECDSA_SHA256))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "RS256" and isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, _PKCS1, _SHA256)
    else:
        raise ValueError(f"{alg} cannot sign with {type(key).__name__}")
    return (signing_input + b"." + _b64(signature)).decode()


def _unb64(part: str) -> bytes:
    try:
        return b64url_decode(part)
    except ValueError:
        raise BadJWS("not base64url") from None


def verify(token: str, keys: Mapping[str, tuple[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of ``token`` if one of ``keys`` (kid → (alg, public key)) signed
    it; ``BadJWS`` otherwise."""
    if not _COMPACT.fullmatch(token):
        raise BadJWS("not a compact JWS")
    h64, c64, s64 = token.split(".")
    try:
        header = orjson.loads(_unb64(h64))
    except orjson.JSONDecodeError:
        raise BadJWS("the header is not JSON") from None
    if not isinstance(header, dict) or "crit" in header:
        raise BadJWS("not a header idportal writes")
    kid, alg = header.get("kid"), header.get("alg")
    entry = keys.get(kid) if isinstance(kid, str) else None
    if entry is None or entry[0] != alg:
        raise BadJWS("not signed with a published key of its algorithm")
    signature, key = _unb64(s64), entry[1]
    signing_input = f"{h64}.{c64}".encode("ascii")
    try:
        if alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                raise BadJWS("an ES256 signature is 64 bytes")
            der = utils.encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                             int.from_bytes(signature[32:], "big"))
            key.verify(der, signing_input, _ECDSA_SHA256)
        elif alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signing_input, _PKCS1, _SHA256)
        else:
            raise BadJWS(f"{alg} is not verified here")
    except InvalidSignature:
        raise BadJWS("the signature does not verify") from None
    try:
        claims = orjson.loads(_unb64(c64))
    except orjson.JSONDecodeError:
        raise BadJWS("the claims are not JSON") from None
    if not isinstance(claims, dict):
        raise BadJWS("the claims are not an object")
    return header, claims

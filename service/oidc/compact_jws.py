"""Compact JWS (RFC 7515 §7.1) for the tokens idportal writes itself, signed with
``cryptography`` directly: ES256 (RFC 7518 §3.4: the signature is r ‖ s, 32 bytes each)
and RS256 (RSASSA-PKCS1-v1_5 with SHA-256). About 40 % less CPU per signature than
joserfc's ``jwt.encode`` (``BENCHMARKS.md``; a login signs two tokens, a refresh two).

Only for claims and headers idportal builds: every token that comes back to a node (an
``id_token_hint``, an access token at userinfo, an e-service's client assertion) is
read by joserfc, and the tests read every token signed here with joserfc and with the
e-services' own libraries."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


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

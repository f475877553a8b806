"""Small cryptographic helpers shared by the protocol code (pure, no I/O)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_id(nbytes: int = 32) -> str:
    """An opaque, URL-safe random identifier (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def digest(value: str) -> str:
    """SHA-256 of a high-entropy secret (first 192 bits, base64url), as stored in Redis:
    a dump of the store does not hand out usable cookies, codes or tokens."""
    return b64url(hashlib.sha256(value.encode()).digest()[:24])


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(a.encode(), b.encode())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def half_hash(value: str, alg: str) -> str:
    """``at_hash``/``c_hash`` (OIDC Core §3.1.3.6): left half of the hash, base64url."""
    h = hashlib.sha384 if alg.endswith("384") else hashlib.sha256
    full = h(value.encode("ascii")).digest()
    return b64url(full[: len(full) // 2])

"""Small cryptographic helpers shared by the protocol code (pure, no I/O)."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os

_URLSAFE = bytes.maketrans(b"+/", b"-_")


def new_id(nbytes: int = 32) -> str:
    """An opaque, URL-safe random identifier (256 bits by default) from the system's
    CSPRNG: ``secrets.token_urlsafe`` without its three Python layers (a login makes a
    dozen)."""
    return b64url(os.urandom(nbytes))


def digest(value: str) -> str:
    """SHA-256 of a high-entropy secret (first 192 bits, base64url), as stored in Redis:
    a dump of the store does not hand out usable cookies, codes or tokens."""
    return b64url(hashlib.sha256(value.encode()).digest()[:24])


def mac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 under one of the node's long-lived keys (the subject secret and the
    keys derived from it): the key's HMAC state is made once and copied for each
    message, which spares OpenSSL looking up HMAC and SHA-256 and hashing the key each
    time (about half the CPU of ``hmac.digest``, more with cold caches; BENCHMARKS.md).
    A key that changes per use (a BankID order's QR secret) takes ``hmac.digest``."""
    h = _keyed(key).copy()
    h.update(message)
    return h.digest()


@functools.lru_cache(maxsize=32)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod="sha256")


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(a.encode(), b.encode())


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2), as ``base64.urlsafe_b64encode`` writes
    it, in one C call and a translation."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_URLSAFE).decode()


def b64url_decode(text: str) -> bytes:
    """The bytes of base64url written with or without its padding; ``ValueError``
    (``binascii.Error``) when it is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def half_hash(value: str, alg: str) -> str:
    """``at_hash``/``c_hash`` (OIDC Core §3.1.3.6): left half of the hash, base64url."""
    h = hashlib.sha384 if alg.endswith("384") else hashlib.sha256
    full = h(value.encode("ascii")).digest()
    return b64url(full[: len(full) // 2])

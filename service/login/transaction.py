"""The login transaction, held by the citizen's browser rather than the store.

A transaction is the validated authorization request, the browser it is bound to (the
digest of the ``__Host-`` browser cookie), its CSRF token, when it expires and, once
started, the BankID order. It travels sealed with AES-256-GCM (authenticated: a
changed byte makes it unreadable) in a cookie scoped to the transaction's own pages,
``Path=/login/<tx>``, so each tab's login has its own and no other page carries it.

Why not the store: a login then touches Redis only when it finishes (one confirmed
round trip that takes the transaction once, writes the session and the code) and when
the e-service redeems the code. Anonymous ``/authorize`` floods cost no memory, and a
failover of Redis cannot lose a login in progress. What the store still holds is the
"finished" marker that makes a transaction usable once (``store.logins``).

Pure: no I/O. The key comes from the key ring (``KeyRing.derived_key(PURPOSE)``).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.crypto import b64url, b64url_decode
from service.records import AuthRequest

PURPOSE = b"login transaction v1"  # what the sealing key is derived for
_VERSION = b"\x01"
# A browser keeps cookies up to 4,096 bytes (name, value and attributes together).
# The transaction as /authorize seals it must leave room for the BankID order (about
# 350 characters sealed), so a request larger than this is refused there.
MAX_SEALED = 3_900
MAX_SEALED_AT_START = 3_400


class RequestTooLarge(ValueError):
    """The authorization request does not fit in a login transaction."""


@dataclass(frozen=True, slots=True)
class Transaction:
    tx_id: str
    request: AuthRequest
    browser: str  # digest of the browser-binding cookie
    csrf: str
    created: int
    expires: int  # epoch seconds; the sealed form is refused after it
    order: str = ""  # BankID order (JSON), owned by login.bankid
    step_up_from: str = ""  # personal number of the session being stepped up
    # A proven identity (Identity JSON) waiting for the citizen to choose whom they act
    # for, and the right PIN attempt whose reservation the finish gives back (JSON).
    proven: str = ""
    pin: str = ""

    def with_order(self, order: str) -> Transaction:
        return dataclasses.replace(self, order=order)


def seal(tx: Transaction, key: bytes) -> str:
    body = orjson.dumps({"r": tx.request.to_json(), "b": tx.browser, "c": tx.csrf,
                         "t": tx.created, "x": tx.expires, "o": tx.order,
                         "s": tx.step_up_from, "p": tx.proven, "a": tx.pin})
    nonce = os.urandom(12)
    sealed = _aead(key).encrypt(nonce, body, _aad(tx.tx_id))
    return b64url(_VERSION + nonce + sealed)


def seal_new(tx: Transaction, key: bytes) -> str:
    """``seal`` for a transaction /authorize makes: refuses one too large to carry."""
    sealed = seal(tx, key)
    if len(sealed) > MAX_SEALED_AT_START:
        raise RequestTooLarge(f"the authorization request is too large to carry through the "
                              f"login ({len(sealed)} bytes sealed, at most "
                              f"{MAX_SEALED_AT_START}): send shorter state, nonce or claims")
    return sealed


def unseal(sealed: str, tx_id: str, key: bytes, *, now: int) -> Transaction | None:
    """The transaction ``tx_id`` from its sealed form; None when it is not one this
    deployment sealed for ``tx_id`` or it has expired."""
    if not sealed or len(sealed) > MAX_SEALED:
        return None
    try:
        raw = b64url_decode(sealed)
    except ValueError:  # not base64url (binascii.Error is one)
        return None
    if len(raw) < 1 + 12 + 16 or raw[:1] != _VERSION:
        return None
    try:
        body = orjson.loads(_aead(key).decrypt(raw[1:13], raw[13:], _aad(tx_id)))
    except (InvalidTag, ValueError):  # orjson.JSONDecodeError is a ValueError
        return None
    tx = Transaction(tx_id=tx_id, request=AuthRequest.from_json(body["r"]), browser=body["b"],
                     csrf=body["c"], created=body["t"], expires=body["x"], order=body["o"],
                     step_up_from=body["s"], proven=body.get("p", ""), pin=body.get("a", ""))
    return tx if now < tx.expires else None


@functools.lru_cache(maxsize=4)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def _aad(tx_id: str) -> bytes:
    # The id is bound in: a sealed transaction cannot be replayed under another id.
    return b"idportal-login|" + tx_id.encode()

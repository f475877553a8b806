"""Identifiers and the base64url the tokens and store keys are written in."""

from __future__ import annotations

import base64
import os
import re

from service.crypto import b64url, new_id


def test_b64url_is_base64url_without_padding_for_every_length() -> None:
    for n in range(0, 100):
        data = os.urandom(n)
        assert b64url(data) == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    assert b64url(b"\xfb\xff\xbf") == "-_-_"  # the two characters that differ from base64


def test_a_new_id_has_its_bits_in_the_url_safe_alphabet_and_never_repeats() -> None:
    ids = {new_id(16) for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)
    assert len(new_id()) == 43 and len(new_id(12)) == 16


def test_mac_is_hmac_sha256() -> None:
    import hashlib
    import hmac

    from service.crypto import mac

    for key, msg in ((b"k" * 32, b"audit|198112189876"), (b"", b""), (b"x" * 100, b"y" * 1000)):
        assert mac(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


def test_b64url_decode_reads_what_b64url_writes_and_refuses_what_is_not_base64url() -> None:
    import pytest

    from service.crypto import b64url_decode

    for n in range(0, 70):
        data = os.urandom(n)
        assert b64url_decode(b64url(data)) == data
        assert b64url_decode(base64.urlsafe_b64encode(data).decode()) == data  # padded too
    for bad in ("A", "AAAAA", "AB*D"):
        with pytest.raises(ValueError):
            b64url_decode(bad)

"""The sealed login transaction: only what this deployment sealed, for this id, before
it expires, opens; every changed byte is refused; an oversized request is refused when
the login starts."""

from __future__ import annotations

import base64
import os

import pytest

from service.login import transaction
from service.login.transaction import Transaction
from service.records import AuthRequest

KEY = os.urandom(32)
REQ = AuthRequest(client_id="rp-basic", redirect_uri="https://rp.test/cb", scope=("openid",),
                  code_challenge="c" * 43, state="s", nonce="n")


def tx(**changes: object) -> Transaction:
    base = {"tx_id": "t" * 32, "request": REQ, "browser": "b" * 32, "csrf": "x" * 32,
            "created": 1000, "expires": 1900, "order": '{"order_ref":"o"}'}
    base.update(changes)
    return Transaction(**base)  # type: ignore[arg-type]


def test_a_sealed_transaction_opens_to_what_was_sealed() -> None:
    sealed = transaction.seal(tx(), KEY)
    assert transaction.unseal(sealed, "t" * 32, KEY, now=1899) == tx()


def test_nothing_of_the_transaction_can_be_read_from_its_sealed_form() -> None:
    sealed = transaction.seal(tx(order='{"qr_start_secret":"hemligt-hemligt"}'), KEY)
    raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    for visible in (b"hemligt", b"rp-basic", b"https://rp.test"):
        assert visible not in raw


def test_an_expired_transaction_does_not_open() -> None:
    assert transaction.unseal(transaction.seal(tx(), KEY), "t" * 32, KEY, now=1900) is None


def test_a_transaction_does_not_open_under_another_id() -> None:
    assert transaction.unseal(transaction.seal(tx(), KEY), "u" * 32, KEY, now=1000) is None


def test_a_transaction_does_not_open_under_another_key() -> None:
    assert transaction.unseal(transaction.seal(tx(), KEY), "t" * 32, os.urandom(32),
                              now=1000) is None


@pytest.mark.parametrize("position", [0, 1, 14, 30, -1])
def test_every_changed_byte_is_refused(position: int) -> None:
    raw = bytearray(base64.urlsafe_b64decode(
        (s := transaction.seal(tx(), KEY)) + "=" * (-len(s) % 4)))
    raw[position] ^= 0x01
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert transaction.unseal(forged, "t" * 32, KEY, now=1000) is None


@pytest.mark.parametrize("junk", ["", "x", "!!!!", "A" * 5000, "AQ", "AQ" + "A" * 40])
def test_junk_is_refused_without_an_exception(junk: str) -> None:
    assert transaction.unseal(junk, "t" * 32, KEY, now=1000) is None


def test_a_request_too_large_to_carry_is_refused_when_the_login_starts() -> None:
    big = tx(request=AuthRequest(client_id="rp-basic", redirect_uri="https://rp.test/cb",
                                 scope=("openid",), code_challenge="c" * 43, state="s" * 2048,
                                 nonce="n" * 2048), order="")
    with pytest.raises(transaction.RequestTooLarge, match="too large"):
        transaction.seal_new(big, KEY)
    assert transaction.seal_new(tx(order=""), KEY)


def test_a_started_transaction_with_a_bankid_order_still_fits_a_cookie() -> None:
    # The largest request /authorize lets through, plus a BankID order as the RP API
    # returns it: the sealed form stays within one cookie.
    order = ('{"order_ref":"131daac9-16c6-4618-beb0-365768f37288","auto_start_token":'
             '"7c40b5c9-fa74-49cf-b98c-bfe651f9a7c6","qr_start_token":'
             '"67df3917-fa0d-44e5-b327-edcc928297f8","qr_start_secret":'
             '"d28db9a7-4cde-429e-a983-359be676944c","started":1700000000.123456,'
             '"device":"other","status":"pending","hint":"outstandingTransaction",'
             '"rfa":"RFA1"}')
    state = "s" * 1
    while True:
        candidate = tx(request=AuthRequest(client_id="rp-basic",
                                           redirect_uri="https://rp.test/cb",
                                           scope=("openid",), code_challenge="c" * 43,
                                           state=state + "s"), order="")
        try:
            transaction.seal_new(candidate, KEY)
        except transaction.RequestTooLarge:
            break
        state += "s"
    largest = tx(request=AuthRequest(client_id="rp-basic", redirect_uri="https://rp.test/cb",
                                     scope=("openid",), code_challenge="c" * 43, state=state),
                 order=order)
    sealed = transaction.seal(largest, KEY)
    assert len(sealed) <= transaction.MAX_SEALED
    assert transaction.unseal(sealed, "t" * 32, KEY, now=1000) == largest

from __future__ import annotations

import base64

import pytest
from lxml import etree

from service.login import qr
from simulators.bankid import signature
from simulators.bankid.orders import OrderBook, ScanError

NAMES = ("Anna", "Andersson")


def test_order_completes_after_the_approval_delay() -> None:
    book = OrderBook()
    o = book.create("127.0.0.1", "", now=0)
    book.open_autostart(o.auto_start_token, "198112189876", NAMES, "approve", 2.0, now=1)
    assert book.get(o.order_ref, now=2).hint == "userSign"  # type: ignore[union-attr]
    assert book.get(o.order_ref, now=3.1).status == "complete"  # type: ignore[union-attr]


def test_scan_checks_hmac_and_age() -> None:
    book = OrderBook(qr_max_age_s=5)
    o = book.create("127.0.0.1", "", now=100)
    good = qr.payload(o.qr_start_token, o.qr_start_secret, 3)
    with pytest.raises(ScanError):
        book.scan(good[:-1] + ("0" if good[-1] != "0" else "1"), "198112189876", NAMES,
                  "approve", 0, now=103)
    with pytest.raises(ScanError):
        book.scan(good, "198112189876", NAMES, "approve", 0, now=120)
    assert book.scan(good, "198112189876", NAMES, "approve", 0, now=104).status == "complete"


def test_orders_expire_and_cancel_removes_them() -> None:
    book = OrderBook(order_ttl_s=10)
    o = book.create("127.0.0.1", "", now=0)
    assert book.get(o.order_ref, now=11).hint == "expiredTransaction"  # type: ignore[union-attr]
    assert book.cancel(o.order_ref) and book.get(o.order_ref, now=0) is None


def test_a_second_order_for_the_same_person_is_already_in_progress() -> None:
    book = OrderBook()
    book.create("127.0.0.1", "198112189876", now=0)
    with pytest.raises(ValueError, match="alreadyInProgress"):
        book.create("127.0.0.1", "198112189876", now=1)


def test_required_person_refuses_another_person() -> None:
    book = OrderBook()
    o = book.create("127.0.0.1", "198112189876", now=0)
    out = book.open_autostart(o.auto_start_token, "198112180040", NAMES, "approve", 0, now=1)
    assert out.status == "failed"


def test_the_simulator_checks_return_url_web_data_and_visible_data_as_the_rp_api() -> None:
    from simulators.bankid.app import _device_problem, _visible_data

    assert _device_problem({"returnUrl": "https://idp.example/x", "web": {
        "referringDomain": "idp.example", "userAgent": "UA", "deviceIdentifier": "a" * 64}}) == ""
    assert _device_problem({"returnUrl": "javascript:alert(1)"}) == "Invalid returnUrl"
    assert _device_problem({"web": {"userAgent": "x" * 257}}) == "Invalid web"
    assert _device_problem({"web": {"other": "x"}}) == "Invalid web"
    assert _visible_data({"userVisibleData": "SGVq"}) == ("Hej", "")
    assert _visible_data({"userVisibleData": "!!"})[1] == "Invalid userVisibleData"
    assert _visible_data({"userVisibleData": "SGVq", "userVisibleDataFormat": "html"})[1]
    assert _visible_data({"userVisibleData": "A" * 1504})[1] == "Invalid userVisibleData"


def test_a_citizen_signs_with_one_certificate_and_each_signature_is_new() -> None:
    keys = signature.make_keys()

    def signed(pnr: str) -> tuple[bytes, bytes]:
        xml = base64.b64decode(signature.sign(keys, visible_b64="", non_visible_b64="",
                                              signing=False, personal_number=pnr, name="A B"))
        root = etree.fromstring(xml)
        cert = root.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
        nonce = root.find(".//{http://www.bankid.com/signature/v1.0.0/types}nonce")
        assert cert is not None and nonce is not None
        return (cert.text or "").encode(), (nonce.text or "").encode()

    first, again, other = signed("198112189876"), signed("198112189876"), signed("199001011234")
    assert first[0] == again[0] and first[1] != again[1]  # as a bank's BankID: kept
    assert other[0] != first[0]


def test_orders_older_than_the_kept_time_are_forgotten_and_younger_ones_kept() -> None:
    book = OrderBook()
    old = [book.create("127.0.0.1", "", now=t) for t in (0, 1, 2)]
    young = book.create("127.0.0.1", "", now=500)
    book.prune(now=601.5, keep_s=600)
    assert [o.order_ref for o in old if book.get(o.order_ref, now=601.5)] == [old[2].order_ref]
    assert book.get(young.order_ref, now=601.5) is not None
    assert old[0].auto_start_token not in book.by_auto and old[0].qr_start_token not in book.by_qr

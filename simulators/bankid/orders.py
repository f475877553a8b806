"""The simulator's order book: the BankID RP API v6 order life cycle, in memory.

pending/outstandingTransaction → (app opened or QR scanned) pending/userSign →
complete | failed/userCancel | failed/expiredTransaction; ``/cancel`` removes it.
Pure logic with an explicit clock.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class Order:
    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str
    end_user_ip: str
    created: float
    required_pnr: str = ""
    status: str = "pending"
    hint: str = "outstandingTransaction"
    personal_number: str = ""
    given_name: str = ""
    surname: str = ""
    decide_at: float | None = None
    outcome: str = ""  # approve | userCancel | startFailed | certificateErr | expire
    completed_at: float | None = None
    user_visible_data: str = ""  # what the app shows with the order
    user_visible_format: str = ""  # "simpleMarkdownV1" or plain text
    return_url: str = ""  # where the app returns the citizen (same device)
    signing: bool = False  # a /sign order (else /auth)
    user_visible_b64: str = ""  # userVisibleData exactly as the RP sent it
    user_non_visible_b64: str = ""  # userNonVisibleData (only /sign)
    web: dict[str, str] = field(default_factory=dict)  # the browser's device data
    call_initiator: str = ""  # a /phone/auth or /phone/sign order: "user" or "RP"


PENDING_HINTS = ("userMrtd", "userCallConfirm")


class ScanError(ValueError):
    pass


@dataclass
class OrderBook:
    order_ttl_s: float = 180.0
    qr_max_age_s: float = 10.0
    # In the order they were made (prune relies on it; OrderedDict: the oldest is found
    # at once however many were forgotten before it).
    orders: OrderedDict[str, Order] = field(default_factory=OrderedDict)
    by_auto: dict[str, str] = field(default_factory=dict)
    by_qr: dict[str, str] = field(default_factory=dict)

    def create(self, end_user_ip: str, required_pnr: str, now: float) -> Order:
        if required_pnr and any(o.required_pnr == required_pnr and o.status == "pending"
                                for o in self.orders.values()):
            raise ValueError("alreadyInProgress")
        o = Order(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()),
                  end_user_ip, now, required_pnr)
        self.orders[o.order_ref] = o
        self.by_auto[o.auto_start_token] = o.order_ref
        self.by_qr[o.qr_start_token] = o.order_ref
        return o

    def advance(self, o: Order, now: float) -> Order:
        if o.status != "pending":
            return o
        if o.decide_at is not None and now >= o.decide_at:
            if o.outcome == "approve":
                o.status, o.hint, o.completed_at = "complete", "", now
            elif o.outcome != "expire":
                o.status, o.hint = "failed", o.outcome
        if o.status == "pending" and now - o.created > self.order_ttl_s:
            o.status, o.hint = "failed", "expiredTransaction"
        return o

    def get(self, order_ref: str, now: float) -> Order | None:
        o = self.orders.get(order_ref)
        return self.advance(o, now) if o else None

    def cancel(self, order_ref: str) -> bool:
        o = self.orders.pop(order_ref, None)
        if o is None:
            return False
        self.by_auto.pop(o.auto_start_token, None)
        self.by_qr.pop(o.qr_start_token, None)
        return True

    def _start(self, o: Order, pnr: str, names: tuple[str, str], outcome: str, delay: float,
               now: float) -> Order:
        self.advance(o, now)
        if o.status != "pending" or o.hint != "outstandingTransaction":
            raise ScanError("the order is not waiting to be started")
        if o.required_pnr and o.required_pnr != pnr:
            # BankID refuses a different person when the RP required one.
            o.status, o.hint = "failed", "userCancel"
            return o
        o.personal_number, (o.given_name, o.surname) = pnr, names
        o.hint = "userSign"
        o.outcome = outcome
        o.decide_at = now + delay
        if outcome in PENDING_HINTS:  # the app waits in that state until the order expires
            o.hint, o.decide_at = outcome, None
        if outcome == "startFailed":
            o.status, o.hint = "failed", "startFailed"
        return self.advance(o, now)

    def open_autostart(self, token: str, pnr: str, names: tuple[str, str], outcome: str,
                       delay: float, now: float) -> Order:
        ref = self.by_auto.get(token)
        if ref is None or ref not in self.orders:
            raise ScanError("unknown autostart token")
        return self._start(self.orders[ref], pnr, names, outcome, delay, now)

    def answer_phone(self, pnr: str, names: tuple[str, str], outcome: str, delay: float,
                     now: float) -> Order:
        """The citizen's app takes the phone order waiting for them (/phone/auth, /sign)."""
        for o in self.orders.values():
            self.advance(o, now)
            if o.call_initiator and o.required_pnr == pnr and o.status == "pending":
                return self._start(o, pnr, names, outcome, delay, now)
        raise ScanError("no phone order waits for this personal number")

    def scan(self, qr: str, pnr: str, names: tuple[str, str], outcome: str, delay: float,
             now: float) -> Order:
        parts = qr.split(".")
        if len(parts) != 4 or parts[0] != "bankid" or not parts[2].isdigit():
            raise ScanError("not a BankID QR code")
        ref = self.by_qr.get(parts[1])
        if ref is None or ref not in self.orders:
            raise ScanError("unknown qrStartToken")
        o = self.orders[ref]
        expected = hmac.new(o.qr_start_secret.encode(), parts[2].encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts[3]):
            raise ScanError("qrAuthCode does not match")
        age = (now - o.created) - int(parts[2])
        if age < -1 or age > self.qr_max_age_s:
            raise ScanError(f"QR code is {age:.0f} s old")
        return self._start(o, pnr, names, outcome, delay, now)

    def prune(self, now: float, keep_s: float = 600.0) -> None:
        """Forget orders older than ``keep_s``. They are kept in the order they were
        made, so only the oldest are looked at (a scan of every order on each /auth
        took a fifth of the simulator's time in a load test)."""
        while self.orders:
            ref, oldest = next(iter(self.orders.items()))
            if now - oldest.created <= keep_s:
                break
            self.cancel(ref)

"""Pending login transactions: the validated authorization request, the browser it is
bound to, its CSRF token, the BankID order, and the identity once proven."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio.client import Pipeline

from service.crypto import new_id
from service.records import AuthRequest, Identity
from service.store import keys, scripts
from service.store.client import StoreClient


@dataclass(frozen=True, slots=True)
class Transaction:
    tx_id: str
    request: AuthRequest
    browser: str  # digest of the browser-binding cookie
    csrf: str
    created: int
    order: str = ""  # BankID order (JSON), owned by login.bankid
    identity: Identity | None = None
    step_up_from: str = ""  # personal number of the session being stepped up
    taken: bool = False

    @classmethod
    def from_fields(cls, tx_id: str, f: dict[str, str]) -> Transaction:
        return cls(
            tx_id=tx_id,
            request=AuthRequest.from_json(f["req"]),
            browser=f.get("browser", ""),
            csrf=f.get("csrf", ""),
            created=int(f.get("created", "0")),
            order=f.get("order", ""),
            identity=Identity.from_json(f["identity"]) if f.get("identity") else None,
            step_up_from=f.get("step_up_from", ""),
            taken="taken" in f,
        )


class Transactions:
    def __init__(self, client: StoreClient, *, unopened: int, ttl: int, taken: int) -> None:
        """``unopened``: how long a transaction lives until the citizen acts on it (a
        flood of anonymous /authorize requests then holds little memory, briefly);
        ``ttl``: once a login method has started."""
        self.client = client
        self.unopened = unopened
        self.ttl = ttl
        self.taken = taken

    async def create(self, request: AuthRequest, *, browser: str, now: int,
                     step_up_from: str = "") -> Transaction:
        tx = Transaction(tx_id=new_id(24), request=request, browser=browser,
                         csrf=new_id(24), created=now, step_up_from=step_up_from)
        mapping = {"req": request.to_json(), "browser": browser, "csrf": tx.csrf,
                   "created": str(now), "step_up_from": step_up_from}
        key = keys.transaction(tx.tx_id)

        def build(pipe: object) -> None:
            pipe.hset(key, mapping=mapping)  # type: ignore[attr-defined]
            pipe.expire(key, self.unopened)  # type: ignore[attr-defined]

        await self.client.confirmed("tx_create", build)
        return tx

    async def get(self, tx_id: str) -> Transaction | None:
        if not _plausible(tx_id):
            return None
        key = keys.transaction(tx_id)
        fields: dict[str, str] = await self.client.run("tx_get", lambda r: r.hgetall(key))  # type: ignore[arg-type,return-value]
        if not fields or "req" not in fields:
            return None
        return Transaction.from_fields(tx_id, fields)

    async def record_order(self, tx_id: str, order: str) -> bool:
        """Record the login's BankID order (JSON, owned by ``login.bankid``; '' to forget
        it); from now on the transaction lives as a login in progress."""
        return await self.set_fields(tx_id, order=order)

    async def set_fields(self, tx_id: str, **fields: str) -> bool:
        """Update fields of a live transaction (never re-creates an expired one); from
        now on it lives as a login in progress."""
        args = [self.ttl, *(x for kv in fields.items() for x in kv)]
        done = await self.client.confirmed_eval(
            "tx_update", scripts.UPDATE_TRANSACTION, [keys.transaction(tx_id)], args)
        return bool(done)

    def take_in(self, pipe: Pipeline, tx: Transaction, attempt: str) -> None:
        """Take the transaction for finishing the login, inside the caller's confirmed
        batch (the login's session and code are written in the same round trip): once,
        atomically, and only for the browser (digest of its binding cookie) that started
        it. ``won`` reads the answer; the batch's other writes happen either way, so a
        caller that lost must withdraw them."""
        pipe.eval(scripts.TAKE_TRANSACTION, 1, keys.transaction(tx.tx_id), attempt, self.taken,
                  tx.browser)

    @staticmethod
    def won(answer: Any, attempt: str) -> bool:
        """Whether ``take_in``'s answer says this attempt took the transaction."""
        if not answer:
            return False
        fields = dict(zip(answer[::2], answer[1::2], strict=True))
        return fields.get("taken") == attempt


def _plausible(opaque: str) -> bool:
    return 16 <= len(opaque) <= 64 and all(c.isalnum() or c in "-_" for c in opaque)

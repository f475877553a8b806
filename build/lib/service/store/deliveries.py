"""Back-channel logout deliveries: queued by the logout itself (``Sessions.end``), claimed
by any node for a lease, settled when the e-services have answered.

A delivery is a hash (``d`` the ended session, ``until`` when to give up, ``attempts``,
``rp:<client_id>`` for each e-service still to tell) and its place in a queue sorted by
when it is next due. Claiming is atomic, so one node at a time works on a delivery; a
node that dies mid-delivery leaves it to fall due again when its lease runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.records import Session
from service.store import keys, scripts
from service.store.client import StoreClient


@dataclass(frozen=True, slots=True)
class Delivery:
    key: str
    session: Session
    clients: tuple[str, ...]
    until: int
    attempts: int


class Deliveries:
    def __init__(self, client: StoreClient, *, lease: int) -> None:
        self.client = client
        self.lease = lease

    async def due(self, now: int, *, limit: int = 20) -> tuple[list[str], int]:
        """Keys of deliveries due by ``now`` (at most ``limit``) and the queue's length."""
        queue = keys.logout_delivery_queue()

        async def op(r: Any) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            pipe.zrangebyscore(queue, "-inf", now, start=0, num=limit)
            pipe.zcard(queue)
            return list(await pipe.execute())

        found, length = await self.client.once(op)  # the pollers' own schedule retries
        return [str(k) for k in found], int(length)

    async def claim(self, key: str, now: int) -> Delivery | None:
        if not key.startswith(keys.logout_delivery("")):
            return None
        raw = await self.client.run("delivery_claim", lambda r: r.eval(
            scripts.CLAIM_DELIVERY, 2, key, keys.logout_delivery_queue(), now, self.lease))
        if not raw:
            return None
        f = dict(zip(raw[::2], raw[1::2], strict=True))
        if "d" not in f:
            return None
        return Delivery(key=key, session=Session.from_json(f["d"]),
                        clients=tuple(sorted(k[3:] for k in f if k.startswith("rp:"))),
                        until=int(f.get("until", "0")), attempts=int(f.get("attempts", "0")))

    async def settle(self, key: str, *, finished: list[str], next_due: int) -> int:
        """Drop the e-services in ``finished``; the rest fall due at ``next_due``.
        Returns how many are still waiting."""
        left = await self.client.run("delivery_settle", lambda r: r.eval(
            scripts.SETTLE_DELIVERY, 2, key, keys.logout_delivery_queue(), next_due, *finished))
        return int(left)

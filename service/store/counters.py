"""PIN failure counters: per person, per person and client address, per address.

Each counter lives for the failure window from its first failure, so a lock lifts by
itself and an attacker cannot keep a citizen locked out for longer than the window
per few attempts; BankID stays open to a citizen whose PIN is locked.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from service.crypto import digest
from service.store import keys
from service.store.client import StoreClient


@dataclass(frozen=True, slots=True)
class Failures:
    person: int
    person_ip: int
    ip: int


class PinCounters:
    def __init__(self, client: StoreClient, *, window: int) -> None:
        self.client = client
        self.window = window

    def _keys(self, personal_number: str, ip: str) -> list[str]:
        person = digest("pin:" + personal_number)
        return [keys.pin_failures_person(person), keys.pin_failures_person_ip(person, ip),
                keys.pin_failures_ip(ip)]

    def read_in(self, pipe: Pipeline, personal_number: str, ip: str) -> None:
        """Read the failures inside the caller's round trip (the login page's read of its
        transaction); ``parse`` reads the answer."""
        pipe.mget(self._keys(personal_number, ip))

    @staticmethod
    def parse(values: list[str | None]) -> Failures:
        a, b, c = (int(v or 0) for v in values)
        return Failures(a, b, c)

    async def record_failure(self, personal_number: str, ip: str) -> None:
        names = self._keys(personal_number, ip)

        async def op(r: Redis) -> None:
            pipe = r.pipeline(transaction=True)
            for name in names:
                pipe.incr(name)
                pipe.expire(name, self.window, nx=True)
            await pipe.execute()

        # Not idempotent (INCR), but a double count after a failover errs on the safe side.
        await self.client.run("pin_fail", op)

    async def clear(self, personal_number: str, ip: str) -> None:
        names = self._keys(personal_number, ip)
        await self.client.run("pin_clear", lambda r: r.delete(names[0], names[1]))

"""PIN attempt counters: per person, per person and address (or known browser), per
address. The policy is ``service.login.lockout``; this module owns the keys and runs the
atomic step that reserves an attempt before verifying; a right PIN's reservation is
given back by the step that finishes the login."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from service.crypto import digest
from service.store import keys, scripts
from service.store.client import StoreClient
from service.store.pin_records import PinRecord, person_digest


@dataclass(frozen=True, slots=True)
class PinAttempt:
    """A PIN attempt that was reserved and turned out right: what to give back."""

    personal_number: str
    ip: str
    device: str
    person_counted: bool


@dataclass(frozen=True, slots=True)
class Reservation:
    """0 and the citizen's PIN record (None: none), or the seconds until the lock that
    refused the attempt lifts."""

    locked_for: int
    record: PinRecord | None = None


class PinCounters:
    def __init__(self, client: StoreClient, *, window: int) -> None:
        self.client = client
        self.window = window

    def _keys(self, personal_number: str, ip: str, device: str) -> list[str]:
        person = person_digest(personal_number)
        bucket = (keys.pin_failures_person_device(person, digest("dev:" + device)) if device
                  else keys.pin_failures_person_ip(person, ip))
        return [keys.pin_failures_person(person), bucket, keys.pin_failures_ip(ip)]

    async def reserve(self, personal_number: str, ip: str, device: str, *,
                      limits: tuple[int, int, int]) -> Reservation:
        """Count one attempt (a PIN or an activation code) before it is verified, and
        read the citizen's PIN record in the same step. ``limits``: person, person
        bucket, address (0: unused). Confirmed on a replica: a failover must not hand an
        attacker fresh guesses."""
        answer = await self.client.confirmed_eval(
            "pin_reserve", scripts.RESERVE_PIN_ATTEMPT,
            [*self._keys(personal_number, ip, device), keys.pin_record(
                person_digest(personal_number))], [*limits, self.window])
        if int(answer[0]):
            return Reservation(int(answer[0]))
        return Reservation(0, PinRecord.from_values(answer[1:]))

    def release(self, attempt: PinAttempt) -> tuple[list[str], str]:
        """A right PIN: the keys and the flag with which the step that finishes the login
        (``Logins.finish``) clears its bucket and gives back its place in the other
        counters (never below zero)."""
        return (self._keys(attempt.personal_number, attempt.ip, attempt.device),
                "1" if attempt.person_counted else "0")

    async def state(self, personal_number: str) -> dict[str, int]:
        """The support desk's view of one citizen's PIN counters: key kind → misses
        counted (``person``, and per address or browser) and the seconds left."""
        person = person_digest(personal_number)
        found: dict[str, int] = {}
        for name in await self._names(person):
            value, ttl = await self.client.run("pin_read", functools.partial(_read, key=name))
            short = name.removeprefix(keys.PREFIX + "pinfail:")
            found[short], found[short + " ttl"] = int(value or 0), int(ttl)
        return found

    async def _names(self, person: str) -> list[str]:
        names: list[str] = []
        for pattern in (keys.pin_failures_person(person),
                        keys.pin_failures_person_ip(person, "*"),
                        keys.pin_failures_person_device(person, "*")):
            names += await self.client.run("pin_scan", functools.partial(_scan,
                                                                         pattern=pattern))
        return names

    async def unlock(self, personal_number: str) -> int:
        """Lift every PIN lock of one citizen (after the desk has verified the caller):
        their counters are deleted, confirmed on a replica. How many were."""
        names = await self._names(person_digest(personal_number))
        if names:
            def delete(pipe: Any) -> None:
                pipe.delete(*names)

            await self.client.confirmed("pin_unlock", delete)
        return len(names)


async def _scan(r: Any, *, pattern: str) -> list[str]:
    return [k.decode() if isinstance(k, bytes) else str(k)
            async for k in r.scan_iter(match=pattern, count=500)]


async def _read(r: Any, *, key: str) -> tuple[Any, int]:
    pipe = r.pipeline(transaction=False)
    pipe.get(key)
    pipe.ttl(key)
    value, ttl = await pipe.execute()
    return value, int(ttl)

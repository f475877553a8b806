"""PIN attempt counters: per person, per person and address (or known browser), per
address. The policy is ``service.login.lockout``; this module owns the keys and runs the
two atomic steps: reserve an attempt before verifying, release it after a right PIN."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio.client import Pipeline

from service.crypto import digest
from service.store import keys, scripts
from service.store.client import StoreClient


@dataclass(frozen=True, slots=True)
class PinAttempt:
    """A PIN attempt that was reserved and turned out right: what to give back."""

    personal_number: str
    ip: str
    device: str
    person_counted: bool


class PinCounters:
    def __init__(self, client: StoreClient, *, window: int) -> None:
        self.client = client
        self.window = window

    def _keys(self, personal_number: str, ip: str, device: str) -> list[str]:
        person = digest("pin:" + personal_number)
        bucket = (keys.pin_failures_person_device(person, digest("dev:" + device)) if device
                  else keys.pin_failures_person_ip(person, ip))
        return [keys.pin_failures_person(person), bucket, keys.pin_failures_ip(ip)]

    async def reserve(self, personal_number: str, ip: str, device: str, *,
                      limits: tuple[int, int, int]) -> int:
        """Count one attempt before it is verified: 0, or the seconds until the lock
        that refuses it lifts. ``limits``: person, person bucket, address (0: unused).
        Confirmed on a replica: a failover must not hand an attacker fresh guesses."""
        left = await self.client.confirmed_eval(
            "pin_reserve", scripts.RESERVE_PIN_ATTEMPT, self._keys(personal_number, ip, device),
            [*limits, self.window])
        return int(left)

    def release_in(self, pipe: Pipeline, attempt: PinAttempt) -> None:
        """A right PIN: clear its bucket and give back its place in the other counters,
        inside the batch that finishes the login (``Logins.finish``)."""
        pipe.eval(scripts.RELEASE_PIN_ATTEMPT, 3,
                  *self._keys(attempt.personal_number, attempt.ip, attempt.device),
                  "1" if attempt.person_counted else "0")

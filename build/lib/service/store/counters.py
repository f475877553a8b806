"""PIN attempt counters: per person, per person and address (or known browser), per
address. The policy is ``service.login.lockout``; this module owns the keys and runs the
atomic step that reserves an attempt before verifying; a right PIN's reservation is
given back by the step that finishes the login."""

from __future__ import annotations

from dataclasses import dataclass

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

    def release(self, attempt: PinAttempt) -> tuple[list[str], str]:
        """A right PIN: the keys and the flag with which the step that finishes the login
        (``Logins.finish``) clears its bucket and gives back its place in the other
        counters (never below zero)."""
        return (self._keys(attempt.personal_number, attempt.ip, attempt.device),
                "1" if attempt.person_counted else "0")

"""The register of citizens who may log in with personal number + PIN.

PINs are stored as argon2id hashes (OWASP: m=19 MiB, t=2, p=1). Verification runs in
a worker thread (argon2-cffi releases the GIL) and takes the same path for an unknown
person (a dummy hash) as for a wrong PIN: same answer, same time.
"""

from __future__ import annotations

import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service import metrics
from service.personnummer import InvalidPersonalNumber, parse
from service.settings import PinSettings


@dataclass(frozen=True, slots=True)
class Citizen:
    personal_number: str
    given_name: str
    family_name: str
    pin_hash: str


class RegisterError(ValueError):
    pass


def hasher(cfg: PinSettings) -> PasswordHasher:
    return PasswordHasher(time_cost=cfg.argon2_time_cost, memory_cost=cfg.argon2_memory_kib,
                          parallelism=cfg.argon2_parallelism)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class PinRegister:
    def __init__(self, citizens: dict[str, Citizen], ph: PasswordHasher) -> None:
        self.citizens = citizens
        self.ph = ph
        self._dummy = ph.hash("not-a-pin-0000")
        # One hash per core at a time: 19 MiB each, more in parallel only thrash the
        # caches and the logins queue behind each other anyway.
        self._limiter: anyio.CapacityLimiter | None = None

    def _slots(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(_cores())
        return self._limiter

    def _verify(self, personal_number: str, pin: str, queued_at: float) -> Citizen | None:
        metrics.PIN_VERIFY_QUEUE.observe(time.monotonic() - queued_at)
        citizen = self.citizens.get(personal_number)
        metrics.PIN_VERIFICATIONS.inc()
        cpu = time.thread_time()
        try:
            self.ph.verify(citizen.pin_hash if citizen else self._dummy, pin)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        finally:
            metrics.PIN_VERIFY_CPU.observe(time.thread_time() - cpu)
        return citizen

    async def verify(self, personal_number: str, pin: str) -> Citizen | None:
        """The citizen if the PIN is right; None for a wrong PIN or an unknown person."""
        return await anyio.to_thread.run_sync(self._verify, personal_number, pin,
                                              time.monotonic(), limiter=self._slots())


def load(path: str | Path, cfg: PinSettings) -> PinRegister:
    problems = []
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegisterError(f"PIN register {path}: {exc}") from exc
    citizens: dict[str, Citizen] = {}
    for i, raw in enumerate(data.get("citizen", [])):
        try:
            pnr = parse(str(raw.get("personal_number", ""))).digits
        except InvalidPersonalNumber as exc:
            problems.append(f"citizen[{i}]: {exc}")
            continue
        pin_hash = str(raw.get("pin_hash", ""))
        if not pin_hash.startswith("$argon2id$"):
            problems.append(f"citizen[{i}]: pin_hash must be an argon2id hash")
            continue
        citizens[pnr] = Citizen(pnr, str(raw.get("given_name", "")),
                                str(raw.get("family_name", "")), pin_hash)
    if problems:
        raise RegisterError("PIN register problems: " + "; ".join(problems))
    return PinRegister(citizens, hasher(cfg))

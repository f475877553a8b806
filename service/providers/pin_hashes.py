"""PIN and activation-code hashes: argon2id (OWASP: m=19 MiB, t=2, p=1) for everything
idportal writes, and the schemes of registers it imports, verified until the citizen's
next successful login re-hashes them to argon2id:

- ``$argon2id$…`` (also an argon2id with older parameters: re-hashed);
- ``$2a$``/``$2b$``/``$2y$`` bcrypt (the ``bcrypt`` library);
- ``pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`` (Django's format; hashlib).

Verification runs in a worker thread (argon2-cffi and bcrypt release the GIL), one per
core at a time, and takes the same path for an unknown person (a dummy hash) as for a
wrong PIN: same answer, same time. Not on the event loop, although PIN logins alone
would get more of the core there (88 % of it in argon2id instead of 81–82 %): each
verification would stop the node for ~20 ms, and with half the users logging in by PIN
the BankID logins beside them fell to a sixth (BENCHMARKS.md, "Where a PIN login's CPU
goes"). In the thread the kernel shares the core: the hashes took 44 % of a node that
had other work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from dataclasses import dataclass

import anyio
import anyio.to_thread
import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service import metrics
from service.settings import PinSettings

SCHEMES = ("argon2id", "bcrypt", "pbkdf2_sha256")


class UnknownScheme(ValueError):
    pass


def scheme(stored: str) -> str:
    """Which of ``SCHEMES`` a stored hash is in; ``UnknownScheme`` for anything else."""
    if stored.startswith("$argon2id$"):
        return "argon2id"
    if stored[:4] in ("$2a$", "$2b$", "$2y$") and len(stored) == 60:
        return "bcrypt"
    parts = stored.split("$")
    if len(parts) == 4 and parts[0] == "pbkdf2_sha256" and parts[1].isdigit() \
            and int(parts[1]) >= 10_000 and parts[2] and parts[3]:
        return "pbkdf2_sha256"
    raise UnknownScheme("not an argon2id, bcrypt or pbkdf2_sha256 hash")


def hasher(cfg: PinSettings) -> PasswordHasher:
    return PasswordHasher(time_cost=cfg.argon2_time_cost, memory_cost=cfg.argon2_memory_kib,
                          parallelism=cfg.argon2_parallelism)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    rehashed: str = ""  # a right secret in an older scheme: its argon2id hash to store


class PinHasher:
    def __init__(self, ph: PasswordHasher) -> None:
        self.ph = ph
        self._dummy = ph.hash("not-a-pin-0000")
        # One hash per core at a time: 19 MiB each, more in parallel only thrash the
        # caches and the logins queue behind each other anyway.
        self._limiter: anyio.CapacityLimiter | None = None

    def _slots(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(_cores())
        return self._limiter

    def _matches(self, stored: str, secret: str) -> bool:
        try:
            kind = scheme(stored)
        except UnknownScheme:
            kind, stored = "argon2id", self._dummy  # same work as a wrong PIN
        if kind == "bcrypt":
            return bcrypt.checkpw(secret.encode(), stored.encode())
        if kind == "pbkdf2_sha256":
            _, rounds, salt, expected = stored.split("$")
            got = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt.encode(), int(rounds))
            return hmac.compare_digest(base64.b64encode(got).decode(), expected)
        try:
            return bool(self.ph.verify(stored, secret))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _verify(self, stored: str, secret: str, queued_at: float) -> Verdict:
        metrics.PIN_VERIFY_QUEUE.observe(time.monotonic() - queued_at)
        metrics.PIN_VERIFICATIONS.inc()
        cpu = time.thread_time()
        try:
            if not stored:
                self._matches(self._dummy, secret)
                return Verdict(False)
            if not self._matches(stored, secret):
                return Verdict(False)
            if scheme(stored) != "argon2id" or self.ph.check_needs_rehash(stored):
                return Verdict(True, self.ph.hash(secret))
            return Verdict(True)
        finally:
            metrics.PIN_VERIFY_CPU.observe(time.thread_time() - cpu)

    async def verify(self, stored: str, secret: str) -> Verdict:
        """Whether ``secret`` matches ``stored`` ('' for an unknown person: a dummy is
        verified instead, so both take the same time)."""
        return await anyio.to_thread.run_sync(self._verify, stored, secret,
                                              time.monotonic(), limiter=self._slots())

    async def hash(self, secret: str) -> str:
        """A new argon2id hash (a PIN the citizen chose, an activation code)."""
        return await anyio.to_thread.run_sync(self.ph.hash, secret, limiter=self._slots())

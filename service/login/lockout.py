"""The PIN lockout policy (pure: no I/O). SECURITY.md, "PIN lockout", says it in words.

Every attempt is counted *before* its PIN is verified, in one atomic step that checks
every limit (``service/store/scripts.py`` ``RESERVE_PIN_ATTEMPT``): however many
requests arrive at once, no more PINs are verified than the limits allow. A locked
attempt is refused at once, with no argon2 work, and the citizen is told the way out.

Buckets, each counted within ``lifetimes.pin_failure_window`` from its first attempt:
- person + address (5): one address guessing one citizen's PIN;
- person (20): many addresses guessing one citizen's PIN;
- address (50): one address guessing many citizens' PINs.

A browser in which this citizen has logged in before (a *known browser*, OWASP's
"device cookie") is counted in its own bucket of 5 instead of the first two: an attacker
who burns a citizen's limits from elsewhere locks out only browsers the citizen never
used, so the citizen's own browser is never locked by somebody else, and a lock costs
the attacker a fresh round of attempts every window. A locked citizen can always log
in with BankID (which makes the browser known) or ask the support desk.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.crypto import b64url, mac, new_id, same

DEVICE_COOKIE = "__Host-idp_device"  # lives ``lifetimes.known_browser``


@dataclass(frozen=True, slots=True)
class Limits:
    """What the reserve script checks: 0 means "bucket not used for this attempt"."""

    person: int
    person_bucket: int  # person + address, or person + known browser
    address: int


def limits_for(*, known_browser: bool, per_person: int, per_person_ip: int,
               per_ip: int) -> Limits:
    if known_browser:
        return Limits(person=0, person_bucket=per_person_ip, address=per_ip)
    return Limits(person=per_person, person_bucket=per_person_ip, address=per_ip)


def _mac(secret: bytes, device_id: str, personal_number: str) -> str:
    msg = f"device|{device_id}|{personal_number}".encode()
    return b64url(mac(secret, msg)[:18])


def device_cookie(secret: bytes, personal_number: str, current: str = "") -> str:
    """The known-browser cookie for this citizen (keeping the browser's id if it has one)."""
    device_id = current.partition(".")[0] if _plausible(current.partition(".")[0]) else ""
    device_id = device_id or new_id(18)
    return f"{device_id}.{_mac(secret, device_id, personal_number)}"


def known_device(secret: bytes, cookie: str, personal_number: str) -> str:
    """The browser's id when ``cookie`` marks it as known for this citizen, else ''."""
    device_id, _, mac = cookie.partition(".")
    if not _plausible(device_id) or not same(mac, _mac(secret, device_id, personal_number)):
        return ""
    return device_id


def _plausible(device_id: str) -> bool:
    return 16 <= len(device_id) <= 32 and all(c.isalnum() or c in "-_" for c in device_id)

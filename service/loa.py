"""Levels of assurance (Swedish e-ID trust framework) and the decisions about them.

Pure functions. PIN gives LoA2; BankID (and smart cards) give LoA3.
"""

from __future__ import annotations

LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA4 = "http://id.elegnamnden.se/loa/1.0/loa4"
UNCERTIFIED_LOA2 = "http://id.swedenconnect.se/loa/1.0/uncertified-loa2"
UNCERTIFIED_LOA3 = "http://id.swedenconnect.se/loa/1.0/uncertified-loa3"

_RANK = {UNCERTIFIED_LOA2: 2, LOA2: 2, UNCERTIFIED_LOA3: 3, LOA3: 3, LOA4: 4}
SHORT = {"loa2": LOA2, "loa3": LOA3, "loa4": LOA4}

METHOD_ACR = {"pin": LOA2, "bankid": LOA3}
SUPPORTED = (LOA2, LOA3)


def rank(acr: str) -> int:
    return _RANK.get(acr, 0)


def normalise(value: str) -> str:
    """Accept ``loa3`` as shorthand for the full URI in configuration."""
    return SHORT.get(value, value)


def required_rank(acr_values: tuple[str, ...], client_min: str) -> int | None:
    """The lowest level that satisfies both the request and the e-service's minimum.

    ``acr_values`` lists acceptable levels; we satisfy the lowest supported one (a
    higher level satisfies a lower request). None: nothing requested is supported.
    """
    floor = rank(client_min)
    if not acr_values:
        return floor
    supported = [rank(a) for a in acr_values if a in SUPPORTED]
    if not supported:
        return None
    return max(min(supported), floor)


def methods_for(required: int) -> tuple[str, ...]:
    """Login methods that reach the required level, strongest first."""
    return tuple(m for m in ("bankid", "pin") if rank(METHOD_ACR[m]) >= required)


def satisfies(session_acr: str, required: int) -> bool:
    return rank(session_acr) >= required

"""Levels of assurance (Swedish e-ID trust framework) and the decisions about them.

Pure functions. PIN gives LoA2; BankID and smart cards LoA3; Freja eID+ LoA3 at registration
level PLUS, LoA2 at EXTENDED. Which URIs a
deployment states for them is its setting (``Settings.loa_uris``): the ``loa2``/``loa3``
URIs only after DIGG has reviewed it, the ``uncertified-`` ones until then (the
default), so ``acr`` tells the truth. Requests and configuration may name either kind:
a level is its rank; only the URIs the deployment states can be asked for.
"""

from __future__ import annotations

LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA4 = "http://id.elegnamnden.se/loa/1.0/loa4"
UNCERTIFIED_LOA2 = "http://id.swedenconnect.se/loa/1.0/uncertified-loa2"
UNCERTIFIED_LOA3 = "http://id.swedenconnect.se/loa/1.0/uncertified-loa3"

_RANK = {UNCERTIFIED_LOA2: 2, LOA2: 2, UNCERTIFIED_LOA3: 3, LOA3: 3, LOA4: 4}
SHORT = {"loa2": LOA2, "loa3": LOA3, "loa4": LOA4}

# The highest level each way in reaches (Freja eID+ reaches it only for a citizen
# registered at PLUS; ``stated_for`` takes the level a login actually reached).
METHOD_RANK = {"pin": 2, "bankid": 3, "freja": 3, "smartcard": 3}
METHODS = ("bankid", "freja", "smartcard", "pin")  # every way in, strongest first
CERTIFIED = (LOA2, LOA3)  # stated by a deployment DIGG has reviewed
UNCERTIFIED = (UNCERTIFIED_LOA2, UNCERTIFIED_LOA3)  # by any other (the default)
LEVELS = {"certified": CERTIFIED, "uncertified": UNCERTIFIED}
SUPPORTED = CERTIFIED  # what configuration may name as an e-service's minimum


def stated(method: str, levels: tuple[str, ...]) -> str:
    """The ``acr`` a login with ``method`` states, from the deployment's ``levels``."""
    return stated_for(METHOD_RANK[method], levels)


def stated_for(level: int, levels: tuple[str, ...]) -> str:
    """The ``acr`` of a login that reached ``level`` (2 or 3), from ``levels``."""
    return levels[level - 2]


def rank(acr: str) -> int:
    return _RANK.get(acr, 0)


def normalise(value: str) -> str:
    """Accept ``loa3`` as shorthand for the full URI in configuration."""
    return SHORT.get(value, value)


def required_rank(acr_values: tuple[str, ...], client_min: str,
                  levels: tuple[str, ...] = UNCERTIFIED) -> int | None:
    """The lowest level that satisfies both the request and the e-service's minimum.

    ``acr_values`` lists acceptable levels; we satisfy the lowest one the deployment
    states (``levels``; a higher level satisfies a lower request). None: nothing
    requested is a level we state (a request for ``loa3`` of a deployment that DIGG has
    not reviewed cannot be met truthfully).
    """
    floor = rank(client_min)
    if not acr_values:
        return floor
    supported = [rank(a) for a in acr_values if a in levels]
    if not supported:
        return None
    return max(min(supported), floor)


def methods_for(required: int, offered: tuple[str, ...] = METHODS) -> tuple[str, ...]:
    """The ways in among ``offered`` (an e-service's) that reach the required level,
    strongest first."""
    return tuple(m for m in METHODS if m in offered and METHOD_RANK[m] >= required)


def satisfies(session_acr: str, required: int) -> bool:
    return rank(session_acr) >= required

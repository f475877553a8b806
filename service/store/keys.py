"""The Redis key schema: the only place that builds key strings.

Every key has the ``idp:`` prefix and a TTL from ``Settings.lifetimes``. Secrets that
a key is named after (cookies, codes) are hashed first, so a dump of Redis hands out
nothing usable.
"""

from __future__ import annotations

PREFIX = "idp:"


def transaction(tx_id: str) -> str:
    """A pending login: the validated authorization request and its progress."""
    return f"{PREFIX}tx:{tx_id}"


def session(cookie_digest: str) -> str:
    """An SSO session (hash), named by the SHA-256 of the cookie value."""
    return f"{PREFIX}sess:{cookie_digest}"


def code(code_digest: str) -> str:
    return f"{PREFIX}code:{code_digest}"


def code_used(code_digest: str) -> str:
    """Left behind when a code is redeemed: a replay finds it and revokes the grant."""
    return f"{PREFIX}code-used:{code_digest}"


def grant(grant_id: str) -> str:
    """A grant and its refresh-token family (hash)."""
    return f"{PREFIX}grant:{grant_id}"


def grant_used_tokens(grant_id: str) -> str:
    """Digests of refresh tokens already rotated away: presenting one revokes the family."""
    return f"{PREFIX}grant-used:{grant_id}"


def revoked_access_token(jti: str) -> str:
    return f"{PREFIX}revoked-at:{jti}"


def pin_failures_person(person_digest: str) -> str:
    return f"{PREFIX}pinfail:person:{person_digest}"


def pin_failures_person_ip(person_digest: str, ip: str) -> str:
    return f"{PREFIX}pinfail:person-ip:{person_digest}:{ip}"


def pin_failures_person_device(person_digest: str, device_digest: str) -> str:
    """Attempts for one citizen from a browser this citizen has logged in with before."""
    return f"{PREFIX}pinfail:person-dev:{person_digest}:{device_digest}"


def pin_failures_ip(ip: str) -> str:
    return f"{PREFIX}pinfail:ip:{ip}"


def client_assertion_jti(client_id: str, jti_digest: str) -> str:
    return f"{PREFIX}jti:{client_id}:{jti_digest}"



def logout_delivery(cookie_digest: str) -> str:
    """Back-channel logouts still to deliver for one ended session (hash)."""
    return f"{PREFIX}bcl:{cookie_digest}"


def logout_delivery_queue() -> str:
    """Deliveries by when they are next due (sorted set of ``logout_delivery`` keys)."""
    return f"{PREFIX}bcl-queue"

"""The Redis key schema: the only place that builds key strings.

Every key has the ``idp:`` prefix and a TTL from ``Settings.lifetimes``. Secrets that
a key is named after (cookies, codes) are hashed first, so a dump of Redis hands out
nothing usable.
"""

from __future__ import annotations

PREFIX = "idp:"


def finished_login(tx_id: str) -> str:
    """Set when a login transaction (held by the browser, ``login.transaction``) is
    finished: it finishes once. Lives as long as the transaction could."""
    return f"{PREFIX}done:{tx_id}"


def session(cookie_digest: str) -> str:
    """An SSO session (hash), named by the SHA-256 of the cookie value."""
    return f"{PREFIX}sess:{cookie_digest}"


def grant(grant_id: str) -> str:
    """A grant (hash): its code until redeemed (a code names its grant), then its
    refresh-token family, the digests rotated away and its revoked access tokens."""
    return f"{PREFIX}grant:{grant_id}"


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


def audit_stream() -> str:
    """Audit events (a stream) until the shippers have them in PostgreSQL
    (``service.audit``); bounded by ``AuditSettings.stream_max``."""
    return f"{PREFIX}audit"


def person_sessions(person_digest: str) -> str:
    """The session keys one citizen has had (a set, living as long as a session can);
    ended ones are skipped when it is read. The support desk's "log out everywhere"."""
    return f"{PREFIX}psess:{person_digest}"


def pin_record(person_digest: str) -> str:
    """One citizen's PIN (hash): 'h' the PIN's hash, 'gn'/'fn' the names, 'st' active |
    pending (a letter is out, no PIN yet) | revoked, 'ch'/'cx' a pending activation
    code's argon2id hash and expiry, 'src' where the PIN came from. No TTL: the register
    lives as long as the citizen (AOF and replicas keep it; SECURITY.md)."""
    return f"{PREFIX}pin:{person_digest}"

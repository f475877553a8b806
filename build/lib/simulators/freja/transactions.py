"""The Freja eID simulator's authentications: the status sequence, who they are for, and
the rules about them. Pure: time is passed in.

``STARTED`` when the RP initiates; ``DELIVERED_TO_MOBILE`` once the citizen's app has it
(an SSN request reaches that citizen's phone; an ``INFERRED`` one the phone that scanned
its QR code); then ``APPROVED``, ``REJECTED``, ``CANCELED`` (by the citizen),
``RP_CANCELED`` or ``EXPIRED`` (two minutes). A second active authentication for the
same citizen cancels both. A citizen whose registration level is below the request's
``minRegistrationLevel`` cannot approve it: it ends ``REJECTED``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

LEVELS = ("BASIC", "EXTENDED", "PLUS")
FINAL = ("APPROVED", "REJECTED", "CANCELED", "RP_CANCELED", "EXPIRED")
TTL_S = 120.0


class FrejaApiError(ValueError):
    """An error answer of the API: HTTP 400 with ``{"code", "message"}``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


INVALID_REFERENCE = (1100, "Invalid reference (for example, nonexistent or expired).")


@dataclass
class Authentication:
    auth_ref: str
    user_info_type: str  # SSN | INFERRED | EMAIL | PHONE
    user_info: str  # as the RP sent it ("N/A" for INFERRED)
    ssn: str  # the citizen it is for ('' until a phone binds an INFERRED one)
    min_level: str
    attributes: tuple[str, ...]
    created: float
    status: str = "STARTED"
    level: str = ""  # the approving citizen's registration level
    given_name: str = ""
    surname: str = ""
    finished: float = 0.0

    def expire(self, now: float) -> None:
        if self.status not in FINAL and now - self.created > TTL_S:
            self._end("EXPIRED", now)

    def _end(self, status: str, now: float) -> None:
        self.status, self.finished = status, now

    @property
    def active(self) -> bool:
        return self.status not in FINAL


@dataclass
class Book:
    auths: dict[str, Authentication] = field(default_factory=dict)

    def start(self, user_info_type: str, user_info: str, ssn: str, min_level: str,
              attributes: tuple[str, ...], now: float) -> Authentication:
        self.prune(now)
        auth = Authentication(secrets.token_urlsafe(32), user_info_type, user_info, ssn,
                              min_level, attributes, now)
        if ssn:
            for other in self._active_for(ssn, now):
                other._end("CANCELED", now)
                auth._end("CANCELED", now)  # a second one for the same citizen: both end
        self.auths[auth.auth_ref] = auth
        return auth

    def _active_for(self, ssn: str, now: float) -> list[Authentication]:
        found = []
        for auth in self.auths.values():
            auth.expire(now)
            if auth.active and auth.ssn == ssn:
                found.append(auth)
        return found

    def get(self, auth_ref: str, now: float) -> Authentication:
        auth = self.auths.get(auth_ref)
        if auth is None:
            raise FrejaApiError(*INVALID_REFERENCE)
        auth.expire(now)
        return auth

    def rp_cancel(self, auth_ref: str, now: float) -> None:
        auth = self.get(auth_ref, now)
        if not auth.active:
            raise FrejaApiError(*INVALID_REFERENCE)
        auth._end("RP_CANCELED", now)

    def deliver(self, auth: Authentication, ssn: str, level: str, names: tuple[str, str],
                now: float) -> None:
        """The citizen's app has the authentication (scanned, or pushed to their phone)."""
        auth.expire(now)
        if not auth.active or auth.status != "STARTED":
            raise FrejaApiError(*INVALID_REFERENCE)
        if auth.ssn and auth.ssn != ssn:
            raise FrejaApiError(1100, "This authentication is for another user.")
        if not auth.ssn:
            for other in self._active_for(ssn, now):
                if other is not auth:
                    other._end("CANCELED", now)
                    auth._end("CANCELED", now)
                    return
        auth.ssn, auth.level = ssn, level
        auth.given_name, auth.surname = names
        auth.status = "DELIVERED_TO_MOBILE"

    def answer(self, auth_ref: str, approve: bool, now: float) -> Authentication:
        """The citizen approves or rejects in the app."""
        auth = self.get(auth_ref, now)
        if auth.status != "DELIVERED_TO_MOBILE":
            raise FrejaApiError(*INVALID_REFERENCE)
        below = LEVELS.index(auth.level) < LEVELS.index(auth.min_level)
        auth._end("APPROVED" if approve and not below else "REJECTED", now)
        return auth

    def waiting_for(self, ssn: str, now: float) -> Authentication | None:
        """The SSN authentication waiting on this citizen's phone."""
        for auth in self.auths.values():
            auth.expire(now)
            if auth.ssn == ssn and auth.status == "STARTED":
                return auth
        return None

    def prune(self, now: float) -> None:
        for ref in [r for r, a in self.auths.items()
                    if not a.active and now - (a.finished or a.created) > 600]:
            del self.auths[ref]

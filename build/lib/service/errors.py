"""Typed errors. The edge (``service/web/errorpages.py``) turns them into responses:
an OAuth error (redirect or JSON) or a page, always with the support reference."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def safe_description(text: str) -> str:
    """RFC 6749 §5.2: error_description uses %x20-21 / %x23-5B / %x5D-7E only."""
    return _UNSAFE.sub("", text)[:300]


class OAuthError(Exception):
    """An OAuth/OIDC protocol error (RFC 6749 §4.1.2.1, §5.2)."""

    status = 400

    def __init__(self, error: str, description: str, *, status: int | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = safe_description(description)
        if status is not None:
            self.status = status


class AuthorizeError(OAuthError):
    """An authorization-request error. It redirects to the e-service only when the
    client and redirect URI are known to be right (RFC 6749 §4.1.2.1); else a page."""

    def __init__(self, error: str, description: str, *, redirect_uri: str = "",
                 state: str = "") -> None:
        super().__init__(error, description)
        self.redirect_uri = redirect_uri
        self.state = state

    @property
    def may_redirect(self) -> bool:
        return bool(self.redirect_uri)


class TokenError(OAuthError):
    """Token, revocation and introspection endpoint errors: JSON (RFC 6749 §5.2)."""


class BearerError(OAuthError):
    """Protected resource errors (RFC 6750 §3)."""

    status = 401


class PageError(Exception):
    """A user-facing error page: ``key`` names the message in the catalogue."""

    def __init__(self, key: str, *, status: int = 400, detail: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.status = status
        self.detail = detail


class BankIDError(Exception):
    """A BankID RP API error; ``code`` is the ``errorCode`` or ``unreachable``/``badResponse``.
    The edge answers it with a page (RFA5) and Retry-After."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class FrejaError(Exception):
    """A Freja eID API error; ``code`` is Freja's error code or ``unreachable``,
    ``badResponse``, ``badSignature``. The edge answers it with a page and Retry-After."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail

"""A citizen's browser for load drivers: a cookie dict filled from Set-Cookie, and what
the drivers read off the pages."""

from __future__ import annotations

import re
from collections.abc import Iterable


class Browser:
    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def absorb(self, set_cookies: Iterable[str]) -> None:
        for header in set_cookies:
            name, _, value = header.split(";", 1)[0].partition("=")
            if "max-age=0" in header.lower() or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip().strip('"')

    def header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}


# What the load drivers read off idportal's pages (tests/helpers/citizen.py is the tests').
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
AUTOSTART = re.compile(r"autostarttoken=([^&\"]+)")
_TX = re.compile(r'"(/login/[A-Za-z0-9_\-]+)/')


def login_of(page: str) -> str:
    """``/login/<tx>`` of a method page (``/authorize`` answers a new login with it)."""
    m = _TX.search(page)
    return m.group(1) if m else ""


def csrf_of(page: str) -> str:
    m = CSRF.search(page)
    return m.group(1) if m else ""

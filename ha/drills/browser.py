"""A citizen's browser for the aiohttp load drivers (drills, benchmark): a cookie dict
filled from Set-Cookie. What they read off the pages is ``citizen.protocol``."""

from __future__ import annotations

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

"""A citizen's browser for the aiohttp adapter (drills, benchmark): the cookies it was
given, each sent back only below its path, as a browser does (a login's transaction
cookie lives at ``/login/<tx>``)."""

from __future__ import annotations

from collections.abc import Iterable


class Browser:
    def __init__(self) -> None:
        self.jar: dict[tuple[str, str], str] = {}  # (name, path) → value

    @property
    def cookies(self) -> dict[str, str]:
        """Every cookie by name (the last one given for a name, whatever its path)."""
        return {name: value for (name, _), value in self.jar.items()}

    def absorb(self, set_cookies: Iterable[str]) -> None:
        for header in set_cookies:
            first, *attributes = header.split(";")
            name, _, value = first.partition("=")
            path = "/"
            for attribute in attributes:
                attr, _, v = attribute.strip().partition("=")
                if attr.lower() == "path" and v:
                    path = v
            where = (name.strip(), path)
            if "max-age=0" in header.lower() or not value:
                self.jar.pop(where, None)
            else:
                self.jar[where] = value.strip().strip('"')

    def header(self, path: str = "/") -> dict[str, str]:
        """The Cookie header for a request to ``path``."""
        sent = [f"{name}={value}" for (name, where), value in self.jar.items()
                if where == "/" or path == where or path.startswith(where.rstrip("/") + "/")]
        return {"Cookie": "; ".join(sent)} if sent else {}

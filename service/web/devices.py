"""The browser and system a session began in, from its User-Agent: ua-parser's rules
with its Rust matcher (the ``regex`` extra: about 15 µs for a string it has not seen,
cached after). Kept with the session as ``Browser|System`` (a few bytes: a session
stays under 1 KB), named on the citizen's own page (``selfservice``)."""

from __future__ import annotations

from ua_parser import parse

UNKNOWN = "?"


def kind(user_agent: str) -> str:
    """``Firefox|Windows``; for a client the rules do not know, ``?|`` and its first
    word (``?|python-httpx/0.28.1``); '' for none."""
    if not user_agent.strip():
        return ""
    found = parse(user_agent[:512])
    browser = found.user_agent.family if found.user_agent else "Other"
    system = found.os.family if found.os else "Other"
    if browser == "Other" and system == "Other":
        return f"{UNKNOWN}|{user_agent.split()[0][:40]}"
    return f"{browser[:40]}|{system[:40]}"


def warm() -> None:
    """Load the rules at start, not in a citizen's login (the first parse compiles them)."""
    parse("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")

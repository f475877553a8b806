"""Run a journey (``citizen.journeys``) with aiohttp: the adapter of the drills and the
benchmark. The browser's calls carry its cookies (``citizen.browser``); the e-service's
back end and the BankID app send none.

``on_call`` is told of each call as it begins and how it ended (an ``Answer``, or the
exception that stopped it), for drill histories and request counts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import aiohttp

from citizen.browser import Browser
from citizen.journeys import Answer, Call, Done, Pause, Steps, advance

T = TypeVar("T")
# Begins a call; what it returns is called with how the call ended.
OnCall = Callable[[Call], Callable[[Answer | BaseException], None]]


class Runner:
    def __init__(self, session: aiohttp.ClientSession, issuer: str, phone: str, *,
                 on_call: OnCall | None = None, freja: str = "") -> None:
        self.session = session
        self.issuer = issuer.rstrip("/")
        self.phone = phone.rstrip("/")
        self.bases = {"phone": self.phone, "freja": freja.rstrip("/")}
        self.on_call = on_call

    async def run(self, steps: Steps[T], browser: Browser | None = None) -> T:
        """Drive ``steps`` to their end; ``browser``: the citizen's (a fresh one if
        none)."""
        browser = browser if browser is not None else Browser()
        reply: Answer | None = None
        while not isinstance(todo := advance(steps, reply), Done):
            if isinstance(todo, Pause):
                await asyncio.sleep(todo.seconds)
                reply = None
            else:
                reply = await self.send(todo, browser)
        return todo.value  # type: ignore[no-any-return]

    async def send(self, c: Call, browser: Browser) -> Answer:
        ended = self.on_call(c) if self.on_call else None
        url = self.bases.get(c.to, self.issuer) + c.path
        headers = dict(c.headers)
        if c.to == "browser":
            headers.update(browser.header(urlsplit(c.path).path))
        kw: dict[str, Any] = {"json": dict(c.json)} if c.json is not None else {}
        if c.form is not None:
            # Encoded here: aiohttp's FormData builds a multipart writer for every form.
            kw["data"] = urlencode(c.form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            async with self.session.request(c.method, url, headers=headers,
                                            allow_redirects=False, **kw) as resp:
                text = await resp.text()
                if c.to == "browser":
                    browser.absorb(resp.headers.getall("set-cookie", []))
                answer = Answer(resp.status, text, resp.headers.get("location", ""))
        except BaseException as exc:
            if ended:
                ended(exc)
            raise
        if ended:
            ended(answer)
        return answer

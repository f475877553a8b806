"""Closed-loop load driver for whole citizen logins against one idportal node (aiohttp).

Modes:
  bankid   authorize (method page) → BankID start (BankID page) → (the phone approves via
           the simulator) → collect (completes: code) → token → userinfo: 5 requests
  pin      authorize (method page with the PIN form) → PIN post (code) → token → userinfo: 4
  refresh  one BankID login per virtual user, then refresh_token grants in a loop
A login counts only if every step passed its checks. Bounded: stops after
warm-up + duration. Only ever targets 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from citizen import protocol
from ha.drills.browser import Browser


class StepError(Exception):
    pass


@dataclass
class Stats:
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    phone_requests: int = 0
    recording: bool = False

    def error(self, kind: str) -> None:
        if self.recording:
            self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass
class Target:
    base: str
    phone: str
    client_id: str
    secret: str
    redirect_uri: str
    pnrs: list[str]
    pin: str = "1234"


class Driver:
    def __init__(self, session: aiohttp.ClientSession, target: Target, stats: Stats) -> None:
        self.s = session
        self.t = target
        self.stats = stats
        self.basic = protocol.basic(target.client_id, target.secret)["Authorization"]

    async def req(self, browser: Browser | None, method: str, url: str, *, expect: int,
                  data: dict[str, str] | None = None,
                  headers: dict[str, str] | None = None) -> tuple[aiohttp.ClientResponse, str]:
        h = dict(headers or {})
        if browser is not None:
            h.update(browser.header())
        async with self.s.request(method, self.t.base + url, data=data, headers=h,
                                  allow_redirects=False) as resp:
            text = await resp.text()
            if self.stats.recording:
                self.stats.requests += 1
            if browser is not None:
                browser.absorb(resp.headers.getall("set-cookie", []))
            if resp.status != expect:
                raise StepError(f"{url.split('?')[0][:30]} {resp.status}")
            return resp, text

    def _authorize_url(self) -> tuple[str, str, str]:
        params, flow = protocol.authorize(self.t.client_id, self.t.redirect_uri)
        return protocol.authorize_path(params), flow.verifier, flow.state

    async def _tokens(self, code: str, verifier: str) -> dict[str, Any]:
        _, text = await self.req(None, "POST", "/token", expect=200, headers={"Authorization": self.basic},
                                 data={"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": self.t.redirect_uri, "code_verifier": verifier})
        body = json.loads(text)
        if not body.get("id_token") or not body.get("access_token"):
            raise StepError("token body")
        _, text = await self.req(None, "GET", "/userinfo", expect=200,
                                 headers={"Authorization": "Bearer " + body["access_token"]})
        if "sub" not in json.loads(text):
            raise StepError("userinfo body")
        return dict(body)

    def _code(self, location: str, state: str) -> str:
        q = protocol.query_of(location)
        if q.get("state") != state or "code" not in q:
            raise StepError("redirect without code")
        return q["code"]

    async def _login_page(self, b: Browser) -> tuple[str, str, str, str]:
        """``/authorize`` for a new browser: the method page, in place."""
        url, verifier, state = self._authorize_url()
        _, page = await self.req(b, "GET", url, expect=200)
        login, csrf = protocol.login_path(page), protocol.csrf(page)
        if not login or not csrf:
            raise StepError("no login page")
        return login, csrf, verifier, state

    async def bankid_login(self, pnr: str) -> dict[str, Any]:
        b = Browser()
        login, csrf, verifier, state = await self._login_page(b)
        _, page = await self.req(b, "POST", login + "/bankid/start", expect=200,
                                 data={"csrf": csrf, "device": "same"})
        token = protocol.autostart_token(page)
        if not token:
            raise StepError("no autostart token")
        async with self.s.post(self.t.phone + "/phone/open", json={
                "autoStartToken": token, "personalNumber": pnr}) as r:
            await r.read()
            if self.stats.recording:
                self.stats.phone_requests += 1
            if r.status != 200:
                raise StepError(f"phone {r.status}")
        _, text = await self.req(b, "POST", login + "/bankid/collect", expect=200,
                                 data={"csrf": csrf}, headers={"Accept": "application/json"})
        body = json.loads(text)
        if body.get("status") != "complete":
            raise StepError(f"collect {body.get('status')}")
        return await self._tokens(self._code(body["next"], state), verifier)

    async def pin_login(self, pnr: str) -> dict[str, Any]:
        b = Browser()
        login, csrf, verifier, state = await self._login_page(b)  # with the PIN form on it
        resp, _ = await self.req(b, "POST", login + "/pin", expect=303, data={
            "csrf": csrf, "personal_number": pnr, "pin": self.t.pin})
        return await self._tokens(self._code(resp.headers["location"], state), verifier)

    async def refresh(self, rt: str) -> str:
        _, text = await self.req(None, "POST", "/token", expect=200, headers={"Authorization": self.basic},
                                 data={"grant_type": "refresh_token", "refresh_token": rt})
        body = json.loads(text)
        if not body.get("access_token") or not body.get("refresh_token"):
            raise StepError("refresh body")
        return str(body["refresh_token"])


async def _vu(i: int, d: Driver, mode: str, stop_at: float) -> None:
    rng = secrets.SystemRandom()
    rt = ""
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        try:
            pnr = d.t.pnrs[rng.randrange(len(d.t.pnrs))]
            if mode == "refresh":
                if not rt:
                    rt = str((await d.bankid_login(pnr)).get("refresh_token", ""))
                    continue
                rt = await d.refresh(rt)
            elif mode == "pin":
                await d.pin_login(pnr)
            else:
                await d.bankid_login(pnr)
        except StepError as exc:
            d.stats.error(str(exc))
            rt = ""
            continue
        except (TimeoutError, aiohttp.ClientError) as exc:
            d.stats.error(type(exc).__name__)
            rt = ""
            continue
        if d.stats.recording:
            d.stats.ok += 1
            d.stats.latencies.append(time.perf_counter() - started)


async def run(target: Target, *, mode: str, vus: int, warmup: float, duration: float,
              on_measure_start: Any = None, on_measure_end: Any = None) -> Stats:
    """Drive `vus` users for warmup + duration seconds; count only the measured window.

    The callbacks run at the window's two edges (where the CPU counters are sampled,
    as the peer's load driver does), before the users still in flight finish.
    """
    stats = Stats()
    connector = aiohttp.TCPConnector(limit=vus * 2, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     cookie_jar=aiohttp.DummyCookieJar()) as session:
        d = Driver(session, target, stats)
        stop_at = time.monotonic() + warmup + duration
        tasks = [asyncio.create_task(_vu(i, d, mode, stop_at)) for i in range(vus)]
        await asyncio.sleep(warmup)
        if on_measure_start:
            on_measure_start()
        stats.recording = True
        await asyncio.sleep(duration)
        stats.recording = False
        if on_measure_end:
            on_measure_end()
        await asyncio.gather(*tasks)
    return stats

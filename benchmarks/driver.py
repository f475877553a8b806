"""Closed-loop load driver for whole citizen logins against one idportal node (aiohttp).

Modes:
  bankid   authorize (method page) → BankID start (BankID page) → (the phone approves via
           the simulator) → collect (completes: code) → token → userinfo: 5 requests
  pin      authorize (method page with the PIN form) → PIN post (code) → token → userinfo: 4
  refresh  one BankID login per virtual user, then refresh_token grants in a loop
  mixed    half the users log in with BankID, half with a PIN, counted apart (``Stats.pin``):
           what a node's hashing thread, always busy, does to the BankID logins beside it
The steps and their checks are ``citizen.journeys``, run by ``citizen.aio``. A login
counts only if every step passed its checks. Bounded: stops after warm-up + duration.
Only ever targets 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from citizen import journeys
from citizen.aio import Runner
from service.serve import settle_heap


@dataclass
class Stats:
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    phone_requests: int = 0
    recording: bool = False
    pin: Stats | None = None  # mode "mixed": the PIN logins, apart from the BankID ones

    def error(self, kind: str) -> None:
        if self.recording:
            self.errors[kind] = self.errors.get(kind, 0) + 1

    def count(self, c: journeys.Call) -> Callable[[object], None]:
        if self.recording:
            if c.to == "phone":
                self.phone_requests += 1
            else:
                self.requests += 1
        return _ignore


def _ignore(_: object) -> None:
    pass


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
    """The journeys of ``citizen.journeys`` for one e-service, counted in ``stats``."""

    def __init__(self, session: aiohttp.ClientSession, target: Target, stats: Stats) -> None:
        self.t = target
        self.stats = stats
        self.es = journeys.EService(target.client_id, target.redirect_uri, secret=target.secret)
        self.runner = Runner(session, target.base, target.phone, on_call=stats.count)

    async def bankid_login(self, pnr: str) -> dict[str, Any]:
        return await self.runner.run(journeys.bankid_login(self.es, pnr))

    async def pin_login(self, pnr: str) -> dict[str, Any]:
        return await self.runner.run(journeys.pin_login(self.es, pnr, self.t.pin))

    async def refresh(self, rt: str) -> str:
        tokens = await self.runner.run(journeys.refresh(self.es, rt))
        return str(tokens["refresh_token"])


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
        except journeys.JourneyFailed as exc:
            d.stats.error(f"{exc.step} {exc.detail[:24]}")
            rt = ""
            continue
        except (TimeoutError, aiohttp.ClientError) as exc:
            d.stats.error(type(exc).__name__)
            rt = ""
            continue
        if d.stats.recording:
            d.stats.ok += 1
            d.stats.latencies.append(time.perf_counter() - started)


def journeys_of(mode: str, vus: int) -> list[str]:
    """Each user's journey: the mode's, or in "mixed" every other user a PIN login
    (BankID logins beside a node whose hashing thread is always busy, as in a PIN
    guessing storm)."""
    if mode == "mixed":
        return ["pin" if i % 2 else "bankid" for i in range(vus)]
    return [mode] * vus


async def run(target: Target, *, mode: str, vus: int, warmup: float, duration: float,
              on_measure_start: Any = None, on_measure_end: Any = None) -> Stats:
    """Drive `vus` users for warmup + duration seconds; count only the measured window.

    The callbacks run at the window's two edges (where the CPU counters are sampled,
    as the peer's load driver does), before the users still in flight finish.
    """
    stats = Stats()
    # The driver's own garbage collections would show up as the logins' latency.
    settle_heap()
    connector = aiohttp.TCPConnector(limit=vus * 2, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     cookie_jar=aiohttp.DummyCookieJar()) as session:
        d = Driver(session, target, stats)
        drivers: dict[str, Driver] = {}
        both = [stats]
        if mode == "mixed":  # the PIN logins counted apart
            stats.pin = Stats()
            drivers["pin"] = Driver(session, target, stats.pin)
            both.append(stats.pin)
        stop_at = time.monotonic() + warmup + duration
        tasks = [asyncio.create_task(_vu(i, drivers.get(journey, d), journey, stop_at))
                 for i, journey in enumerate(journeys_of(mode, vus))]
        await asyncio.sleep(warmup)
        if on_measure_start:
            on_measure_start()
        for st in both:
            st.recording = True
        await asyncio.sleep(duration)
        for st in both:
            st.recording = False
        if on_measure_end:
            on_measure_end()
        await asyncio.gather(*tasks)
    return stats

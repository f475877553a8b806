"""Bounded load of whole citizen journeys against HAProxy, recording every step.

A journey (the steps are ``citizen.journeys``): BankID (or, with ``provider="freja"``,
Freja eID) login to Mina sidor (authorize → method page → start → the app page → the
phone approves → collect) → token → SSO into
Bygglov (authorize with the session: a code, no login page) → token (private_key_jwt) →
userinfo → refresh → and, for every other citizen, logout. Every call is an operation
in the history; the session cookies, codes and rotated refresh tokens the citizens were
given are kept for the checks.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from joserfc.jwk import ECKey

from citizen import journeys
from citizen.aio import Runner
from citizen.browser import Browser
from ha.drills.history import History, Op
from ha.stack import DEMO_SECRET, REPO
from service.testpeople import personal_number

SESSION_COOKIE = "__Host-idp_session"


class StepFailed(Exception):
    pass


@dataclass(frozen=True)
class Target:
    issuer: str
    phone: str
    ca_file: str
    mina_redirect: str = "https://127.0.0.1:8601/callback"
    bygglov_redirect: str = "https://127.0.0.1:8602/callback"
    freja_phone: str = ""  # the Freja simulator's phone API
    settings_file: str = ""  # the nodes' settings: the audit store and the keys


class Citizen:
    """The drills' citizen: ``citizen.journeys`` run by ``citizen.aio``, every call an
    operation in the history, and what the citizen was given kept for the checks."""

    def __init__(self, http: aiohttp.ClientSession, target: Target, history: History,
                 bygglov_key: ECKey, provider: str = "bankid") -> None:
        self.h = history
        self.provider = provider
        self.mina = journeys.EService("mina-sidor", target.mina_redirect, secret=DEMO_SECRET)
        self.bygglov = journeys.EService("bygglov", target.bygglov_redirect, key=bygglov_key,
                                         token_endpoint=target.issuer + "/token")
        self.runner = Runner(http, target.issuer, target.phone, on_call=self._record,
                             freja=target.freja_phone)

    def _record(self, c: journeys.Call) -> Callable[[journeys.Answer | BaseException], None]:
        op = self.h.begin(c.step)

        def ended(outcome: journeys.Answer | BaseException) -> None:
            if isinstance(outcome, journeys.Answer):
                if outcome.status in c.expect:
                    self.h.finish(op, "ok")
                else:
                    self.h.finish(op, "fail", f"{outcome.status} {outcome.text[:80]}")
            elif isinstance(outcome, (TimeoutError, aiohttp.ServerDisconnectedError,
                                      aiohttp.ClientOSError)):
                self.h.finish(op, "unknown", type(outcome).__name__)  # it may have happened
            else:
                self.h.finish(op, "fail", type(outcome).__name__)

        return ended

    async def journey(self, i: int, *, logout: bool, approval_s: float) -> None:
        try:
            await self._journey(i, logout=logout, approval_s=approval_s)
        except journeys.JourneyFailed as exc:
            raise StepFailed(exc.step) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise StepFailed(type(exc).__name__) from exc

    async def _journey(self, i: int, *, logout: bool, approval_s: float) -> None:
        b = Browser()
        screen = await self.runner.run(journeys.open_login(self.mina), b)
        if self.provider == "freja":
            code = await self.runner.run(journeys.freja_code(
                screen, personal_number(i), poll_s=max(0.2, approval_s / 2), patience_s=20), b)
        else:
            code = await self.runner.run(journeys.bankid_code(
                screen, personal_number(i), approval_s=approval_s, patience_s=20), b)
        if SESSION_COOKIE not in b.cookies:
            raise StepFailed("collect")
        self.h.artifacts.sessions.append((time.monotonic(), b.cookies[SESSION_COOKIE]))
        self.h.artifacts.logins.append((time.time(), personal_number(i)))
        tokens = await self.runner.run(journeys.redeem(self.mina, screen.flow, code), b)
        # Kept only once redeemed: the checks present it again and expect a refusal.
        self.h.artifacts.codes.append(("mina-sidor", code, screen.flow.verifier))
        # SSO into the second e-service: a code straight away, no login page.
        code2, flow2 = await self.runner.run(journeys.sso(self.bygglov), b)
        await self.runner.run(journeys.redeem(self.bygglov, flow2, code2, step="token_jwt"), b)
        await self.runner.run(journeys.userinfo(tokens["access_token"]), b)
        await self.runner.run(journeys.refresh(self.mina, tokens["refresh_token"]), b)
        self.h.artifacts.rotated.append(("mina-sidor", tokens["refresh_token"]))
        if logout:
            cookie = b.cookies[SESSION_COOKIE]
            self.h.artifacts.logout_sent.add(cookie)
            await self.runner.run(journeys.logout(tokens["id_token"]), b)
            self.h.artifacts.logged_out.append((time.monotonic(), cookie))


def ssl_context(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def bygglov_key() -> ECKey:
    return ECKey.import_key(json.loads(
        (REPO / "config" / "demo" / "bygglov-private-jwk.json").read_text()))


async def run_load(target: Target, history: History, *, citizens: int, stop: asyncio.Event,
                   approval_s: float = 0.0, pause_s: float = 0.1,
                   provider: str = "bankid") -> None:
    """``citizens`` concurrent journeys in a loop until ``stop`` is set (bounded by it),
    each logging in with ``provider`` (``bankid`` or ``freja``)."""
    counter = iter(range(10**9))
    key = bygglov_key()
    connector = aiohttp.TCPConnector(ssl=ssl_context(target.ca_file), limit=citizens * 3)
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     cookie_jar=aiohttp.DummyCookieJar()) as http:
        citizen = Citizen(http, target, history, key, provider)

        async def loop(vu: int) -> None:
            while not stop.is_set():
                n = next(counter)
                op = Op("journey", time.monotonic())
                history.journeys.append(op)
                try:
                    await citizen.journey(n, logout=n % 2 == 0, approval_s=approval_s)
                    History.finish(op, "ok")
                except StepFailed as exc:
                    History.finish(op, "fail", str(exc))
                    await asyncio.sleep(0.05)
                await asyncio.sleep(pause_s)

        await asyncio.gather(*(loop(v) for v in range(citizens)))


def target_from_status(info: dict[str, Any]) -> Target:
    """The cluster's front door and its e-services' registered callbacks."""
    demos = info.get("demos", {})
    defaults = Target("", "", "")
    return Target(issuer=info["issuer"], phone=info["phone_url"], ca_file=info["ca_file"],
                  freja_phone=info.get("freja_phone_url", ""),
                  settings_file=info.get("settings_file", ""),
                  mina_redirect=demos["mina-sidor"] + "/callback" if "mina-sidor" in demos
                  else defaults.mina_redirect,
                  bygglov_redirect=demos["bygglov"] + "/callback" if "bygglov" in demos
                  else defaults.bygglov_redirect)




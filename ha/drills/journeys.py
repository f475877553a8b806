"""Bounded load of whole citizen journeys against HAProxy, recording every step.

A journey: BankID login to Mina sidor (authorize → method page → start → BankID page →
the phone approves → collect) → token → SSO into Bygglov (authorize with the session:
a code, no login page) → token (private_key_jwt) → userinfo → refresh → and, for every
other citizen, logout. Every step is an operation in the history; the session cookies,
codes and rotated refresh tokens the citizens were given are kept for the checks.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from joserfc.jwk import ECKey

from citizen import protocol
from ha.drills.browser import Browser
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


class Citizen:
    def __init__(self, http: aiohttp.ClientSession, target: Target, history: History,
                 bygglov_key: ECKey) -> None:
        self.http = http
        self.t = target
        self.h = history
        self.key = bygglov_key
        self.basic = protocol.basic("mina-sidor", DEMO_SECRET)["Authorization"]

    async def _req(self, step: str, method: str, url: str, *, browser: Browser | None = None,
                   expect: int = 200, **kw: Any) -> tuple[aiohttp.ClientResponse, str]:
        op = self.h.begin(step)
        headers = dict(kw.pop("headers", {}))
        if browser is not None:
            headers.update(browser.header())
        try:
            async with self.http.request(method, url, headers=headers, allow_redirects=False,
                                         **kw) as resp:
                text = await resp.text()
                if browser is not None:
                    browser.absorb(resp.headers.getall("set-cookie", []))
        except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            self.h.finish(op, "unknown", type(exc).__name__)
            raise StepFailed(step) from exc
        except aiohttp.ClientError as exc:
            self.h.finish(op, "fail", type(exc).__name__)
            raise StepFailed(step) from exc
        if resp.status != expect:
            self.h.finish(op, "fail", f"{resp.status} {text[:80]}")
            raise StepFailed(step)
        self.h.finish(op, "ok")
        return resp, text

    async def _authorize(self, b: Browser, client: str, redirect: str, *,
                         expect: int = 303) -> tuple[Any, str, str, str]:
        """The answer (its Location or, for a new login, the method page), verifier, state."""
        params, flow = protocol.authorize(client, redirect)
        resp, text = await self._req("authorize", "GET",
                                     self.t.issuer + protocol.authorize_path(params),
                                     browser=b, expect=expect)
        return resp.headers.get("location", ""), text, flow.verifier, flow.state

    async def _token_mina(self, code: str, verifier: str) -> dict[str, Any]:
        _, text = await self._req("token", "POST", f"{self.t.issuer}/token", headers={
            "Authorization": self.basic}, data={"grant_type": "authorization_code", "code": code,
                                                "redirect_uri": self.t.mina_redirect,
                                                "code_verifier": verifier})
        self.h.artifacts.codes.append(("mina-sidor", code, verifier))
        return dict(json.loads(text))

    async def journey(self, i: int, *, logout: bool, approval_s: float) -> None:
        b = Browser()
        pnr = personal_number(i)
        _, page, verifier, state = await self._authorize(b, "mina-sidor", self.t.mina_redirect,
                                                         expect=200)
        login, csrf = protocol.login_path(page), protocol.csrf(page)
        if not login or not csrf:
            raise StepFailed("authorize")
        _, page = await self._req("bankid_start", "POST", f"{self.t.issuer}{login}/bankid/start",
                                  browser=b, data={"csrf": csrf, "device": "same"})
        token = protocol.autostart_token(page)
        if not token:
            raise StepFailed("bankid_start")
        await self._req("phone", "POST", f"{self.t.phone}/phone/open", json={
            "autoStartToken": token, "personalNumber": pnr,
            "delayMs": int(approval_s * 1000)})
        body: dict[str, Any] = {}
        deadline = time.monotonic() + approval_s + 20
        while time.monotonic() < deadline:
            _, text = await self._req("collect", "POST", f"{self.t.issuer}{login}/bankid/collect",
                                      browser=b, data={"csrf": csrf},
                                      headers={"Accept": "application/json"})
            body = json.loads(text)
            if body.get("status") != "pending":
                break
            await asyncio.sleep(min(2.0, max(0.2, approval_s / 2)))
        if body.get("status") != "complete" or SESSION_COOKIE not in b.cookies:
            raise StepFailed("collect")
        self.h.artifacts.sessions.append((time.monotonic(), b.cookies[SESSION_COOKIE]))
        q = protocol.query_of(body["next"])
        if q.get("state") != state:
            raise StepFailed("collect")
        tokens = await self._token_mina(q["code"], verifier)

        # SSO into the second e-service: a code straight away, no login page.
        loc, _, v2, s2 = await self._authorize(b, "bygglov", self.t.bygglov_redirect)
        q2 = protocol.query_of(loc)
        if "code" not in q2 or q2.get("state") != s2:
            raise StepFailed("sso")
        await self._req("token_jwt", "POST", f"{self.t.issuer}/token", data={
            "grant_type": "authorization_code", "code": q2["code"],
            "redirect_uri": self.t.bygglov_redirect, "code_verifier": v2,
            **protocol.client_assertion("bygglov", self.t.issuer + "/token", self.key)})

        await self._req("userinfo", "GET", f"{self.t.issuer}/userinfo",
                        headers={"Authorization": "Bearer " + tokens["access_token"]})
        _, text = await self._req("refresh", "POST", f"{self.t.issuer}/token", headers={
            "Authorization": self.basic}, data={"grant_type": "refresh_token",
                                                "refresh_token": tokens["refresh_token"]})
        self.h.artifacts.rotated.append(("mina-sidor", tokens["refresh_token"]))
        if not json.loads(text).get("refresh_token"):
            raise StepFailed("refresh")
        if logout:
            cookie = b.cookies[SESSION_COOKIE]
            hint = urlencode({"id_token_hint": tokens["id_token"]})
            await self._req("logout", "GET", f"{self.t.issuer}/end_session?{hint}", browser=b)
            self.h.artifacts.logged_out.append((time.monotonic(), cookie))


def ssl_context(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def bygglov_key() -> ECKey:
    return ECKey.import_key(json.loads(
        (REPO / "config" / "demo" / "bygglov-private-jwk.json").read_text()))


async def run_load(target: Target, history: History, *, citizens: int, stop: asyncio.Event,
                   approval_s: float = 0.0, pause_s: float = 0.1) -> None:
    """``citizens`` concurrent journeys in a loop until ``stop`` is set (bounded by it)."""
    counter = iter(range(10**9))
    key = bygglov_key()
    connector = aiohttp.TCPConnector(ssl=ssl_context(target.ca_file), limit=citizens * 3)
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     cookie_jar=aiohttp.DummyCookieJar()) as http:
        citizen = Citizen(http, target, history, key)

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
                  mina_redirect=demos["mina-sidor"] + "/callback" if "mina-sidor" in demos
                  else defaults.mina_redirect,
                  bygglov_redirect=demos["bygglov"] + "/callback" if "bygglov" in demos
                  else defaults.bygglov_redirect)




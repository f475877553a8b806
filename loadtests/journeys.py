"""Whole citizen journeys for Locust (FastHttpUser), every response checked.

Each journey is also reported to Locust as a request of type ``JOURNEY`` (its name, its
duration without the time the citizen spends approving in the BankID app, and the
failed step), so journeys are counted beside requests in the CSV and HTML reports.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import gevent
from joserfc.jwk import ECKey
from locust import FastHttpUser

from citizen import protocol
from ha.stack import DEMO_SECRET, REPO
from loadtests.slo import JOURNEY
from service.testpeople import personal_number
from simulators.bankid.camera import read_svg


def _eservice(client_id: str, default_port: int) -> tuple[str, str]:
    """An e-service and its registered callback: where the cluster runs its demo (its
    ``status --json``), else the demo's usual port."""
    path = os.environ.get("IDPORTAL_CLUSTER_JSON")
    demos = dict(json.loads(Path(path).read_text()).get("demos", {})) if path else {}
    return client_id, demos.get(client_id, f"https://127.0.0.1:{default_port}") + "/callback"


MINA = _eservice("mina-sidor", 8601)
BYGGLOV = _eservice("bygglov", 8602)
PIN_CITIZENS = int(os.environ.get("IDPORTAL_PIN_CITIZENS", "1000"))
_KEY: ECKey | None = None


class StepFailed(Exception):
    pass


def target() -> dict[str, Any]:
    """The cluster's ``status --json`` (the file ``idportal load`` hands over)."""
    return dict(json.loads(open(os.environ["IDPORTAL_CLUSTER_JSON"]).read()))


def approval_delay() -> float:
    raw = os.environ.get("IDPORTAL_APPROVAL_DELAY", "0")
    lo, _, hi = raw.partition("-")
    return random.uniform(float(lo), float(hi or lo))


def bygglov_key() -> ECKey:
    global _KEY
    if _KEY is None:
        _KEY = ECKey.import_key(json.loads(
            (REPO / "config" / "demo" / "bygglov-private-jwk.json").read_text()))
    return _KEY


class Citizen(FastHttpUser):
    """One citizen (or app) at a time per Locust user; a fresh browser per journey."""

    abstract = True
    insecure = True  # loopback to our own HAProxy; the CA is the local test CA

    def on_start(self) -> None:
        t = target()
        self.host = t["issuer"]
        self.phone = t["phone_url"]
        self.waited = 0.0
        self.screen_csrf = ""  # the CSRF token of the login page the browser shows

    # --- plumbing --------------------------------------------------------------------
    def step(self, name: str, method: str, url: str, *, expect: int | tuple[int, ...] = 200,
             **kw: Any) -> Any:
        """One request; its status must be ``expect`` (or one of them)."""
        wanted = expect if isinstance(expect, tuple) else (expect,)
        with self.client.request(method, url, name=name, catch_response=True,
                                 allow_redirects=False, **kw) as resp:
            if resp.status_code not in wanted:
                resp.failure(f"{resp.status_code}, wanted {expect}")
                raise StepFailed(name)
            resp.success()
            return resp

    @contextmanager
    def journey(self, name: str) -> Iterator[None]:
        self.client.cookiejar.clear()  # a fresh browser
        self.waited = 0.0
        start = time.perf_counter()
        error: Exception | None = None
        try:
            yield
        except StepFailed as exc:
            error = exc
        elapsed = (time.perf_counter() - start - self.waited) * 1000
        self.environment.events.request.fire(
            request_type=JOURNEY, name=name, response_time=elapsed, response_length=0,
            exception=error, context={})

    def authorize(self, client: tuple[str, str], *, expect: int = 200) -> tuple[str, str, str]:
        """(login, verifier, state): ``/login/<tx>`` of the method page a new login gets
        in place (200), or where ``/authorize`` redirected (303: SSO, errors)."""
        params, flow = protocol.authorize(client[0], client[1])
        resp = self.step("GET /authorize", "GET", protocol.authorize_path(params), expect=expect)
        if resp.status_code == 303:
            return resp.headers["location"], flow.verifier, flow.state
        login, self.screen_csrf = protocol.login_path(resp.text), protocol.csrf(resp.text)
        if not login or not self.screen_csrf:
            raise StepFailed("no method page")
        return login, flow.verifier, flow.state

    def code_of(self, location: str, state: str) -> str:
        q = protocol.query_of(location)
        if q.get("state") != state or "code" not in q:
            raise StepFailed("redirect without code")
        return q["code"]

    def token(self, client: tuple[str, str], code: str, verifier: str) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": client[1],
                "code_verifier": verifier}
        headers = self._client_auth(client, form)
        resp = self.form("POST /token", "/token", form, expect=200, headers=headers)
        body = dict(resp.json())
        if not body.get("id_token") or not body.get("access_token"):
            raise StepFailed("token body")
        return body

    def _client_auth(self, client: tuple[str, str], form: dict[str, str]) -> dict[str, str]:
        """Mina sidor: client_secret_basic; Bygglov: private_key_jwt (a fresh jti)."""
        if client[0] == "bygglov":
            form.update(protocol.client_assertion("bygglov", f"{self.host}/token", bygglov_key()))
            return {}
        return protocol.basic("mina-sidor", DEMO_SECRET)

    def refresh_grant(self, client: tuple[str, str], refresh_token: str) -> str:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        headers = self._client_auth(client, form)
        resp = self.form("POST /token (refresh)", "/token", form, expect=200, headers=headers)
        new = resp.json().get("refresh_token")
        if not new:
            raise StepFailed("no rotated refresh token")
        return str(new)

    def userinfo(self, access_token: str) -> None:
        resp = self.step("GET /userinfo", "GET", "/userinfo",
                         headers={"Authorization": "Bearer " + access_token})
        if "sub" not in resp.json():
            raise StepFailed("userinfo body")

    def form(self, name: str, url: str, data: dict[str, str], *, expect: int | tuple[int, ...],
             accept: str = "", headers: dict[str, str] | None = None) -> Any:
        headers = {**(headers or {}), "Content-Type": "application/x-www-form-urlencoded"}
        if accept:
            headers["Accept"] = accept
        return self.step(name, "POST", url, data=urlencode(data), headers=headers, expect=expect)

    # --- journeys ----------------------------------------------------------------------
    def bankid(self, login: str, pnr: str, *, device: str) -> str:
        """From the method page on screen to the e-service's redirect (its Location)."""
        csrf = self.screen_csrf
        page = self.form("POST /login/[tx]/bankid/start", f"{login}/bankid/start",
                         {"csrf": csrf, "device": device}, expect=200)
        delay = approval_delay()
        if device == "same":
            token = protocol.autostart_token(page.text)
            if not token:
                raise StepFailed("no autostart link")
            self.step("POST /phone/open", "POST", f"{self.phone}/phone/open", json={
                "autoStartToken": token, "personalNumber": pnr,
                "delayMs": int(delay * 1000)})
        else:
            svg = self.step("GET /login/[tx]/bankid/qr.svg", "GET", f"{login}/bankid/qr.svg")
            self.step("POST /phone/scan", "POST", f"{self.phone}/phone/scan", json={
                "qr": read_svg(svg.text), "personalNumber": pnr, "delayMs": int(delay * 1000)})
        # The page's script: /collect every 2 s, a new QR code every second.
        started = time.perf_counter()
        deadline = started + delay + 30
        while True:
            resp = self.form("POST /login/[tx]/bankid/collect", f"{login}/bankid/collect",
                             {"csrf": csrf}, expect=200, accept="application/json")
            body = resp.json()
            if body.get("status") == "complete":
                self.waited += max(0.0, time.perf_counter() - started)
                return str(body["next"])
            if body.get("status") != "pending" or time.perf_counter() > deadline:
                raise StepFailed(f"collect {body.get('status')} {body.get('hintCode')}")
            for _ in range(2):
                if device == "other":
                    self.step("GET /login/[tx]/bankid/qr.svg", "GET", f"{login}/bankid/qr.svg")
                gevent.sleep(1.0)

    def bankid_login(self, client: tuple[str, str], pnr: str, *, device: str = "same") -> dict[str, Any]:
        login, verifier, state = self.authorize(client)
        location = self.bankid(login, pnr, device=device)
        tokens = self.token(client, self.code_of(location, state), verifier)
        self.userinfo(tokens["access_token"])
        return tokens

    def sso(self, client: tuple[str, str]) -> dict[str, Any]:
        """A second e-service with a live session: a code with no login page."""
        location, verifier, state = self.authorize(client, expect=303)
        return self.token(client, self.code_of(location, state), verifier)

    def pin(self, login: str, pnr: str, pin: str, *, expect: int | tuple[int, ...]) -> Any:
        """Post the PIN form of the method page on screen (a refusal shows it again)."""
        return self.form("POST /login/[tx]/pin", f"{login}/pin", {
            "csrf": self.screen_csrf, "personal_number": pnr, "pin": pin}, expect=expect)

    def logout(self, id_token: str) -> None:
        self.step("GET /end_session", "GET",
                  "/end_session?" + urlencode({"id_token_hint": id_token}))


def any_citizen() -> str:
    return personal_number(random.randrange(10**6))


def pin_citizen() -> str:
    """A citizen of the seeded PIN register (PIN 1234), outside the lockout range."""
    return personal_number(random.randrange(LOCKOUT_CITIZENS, PIN_CITIZENS))


# The first citizens of the register are the ones the lockout journey locks: nobody
# else logs in as them, so a lock never fails another journey.
LOCKOUT_CITIZENS = 50


def lockout_citizen() -> str:
    return personal_number(random.randrange(LOCKOUT_CITIZENS))

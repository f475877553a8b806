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
from typing import Any, TypeVar
from urllib.parse import urlencode

import gevent
from joserfc.jwk import ECKey
from locust import FastHttpUser

from citizen import journeys
from ha.stack import DEMO_SECRET, REPO
from loadtests.slo import JOURNEY
from service.testpeople import personal_number


def _callback(client_id: str, default_port: int) -> str:
    """An e-service's registered callback: where the cluster runs its demo (its
    ``status --json``), else the demo's usual port."""
    path = os.environ.get("IDPORTAL_CLUSTER_JSON")
    demos = dict(json.loads(Path(path).read_text()).get("demos", {})) if path else {}
    return str(demos.get(client_id, f"https://127.0.0.1:{default_port}")) + "/callback"


def _issuer() -> str:
    path = os.environ.get("IDPORTAL_CLUSTER_JSON")
    return str(json.loads(Path(path).read_text())["issuer"]) if path else ""


def bygglov_key() -> ECKey:
    return ECKey.import_key(json.loads(
        (REPO / "config" / "demo" / "bygglov-private-jwk.json").read_text()))


T = TypeVar("T")
MINA = journeys.EService("mina-sidor", _callback("mina-sidor", 8601), secret=DEMO_SECRET)
BYGGLOV = journeys.EService("bygglov", _callback("bygglov", 8602), key=bygglov_key(),
                            token_endpoint=_issuer() + "/token")
PIN_CITIZENS = int(os.environ.get("IDPORTAL_PIN_CITIZENS", "1000"))


def target() -> dict[str, Any]:
    """The cluster's ``status --json`` (the file ``idportal load`` hands over)."""
    return dict(json.loads(open(os.environ["IDPORTAL_CLUSTER_JSON"]).read()))


def approval_delay() -> float:
    raw = os.environ.get("IDPORTAL_APPROVAL_DELAY", "0")
    lo, _, hi = raw.partition("-")
    return random.uniform(float(lo), float(hi or lo))


class Citizen(FastHttpUser):
    """One citizen (or app) at a time per Locust user; a fresh browser per journey."""

    abstract = True
    insecure = True  # loopback to our own HAProxy; the CA is the local test CA

    def on_start(self) -> None:
        t = target()
        self.host = t["issuer"]
        self.phone = t["phone_url"]
        self.freja = t.get("freja_phone_url", "")
        self.waited = 0.0

    # --- the adapter -----------------------------------------------------------------
    def follow(self, steps: journeys.Steps[T]) -> T:
        """Drive a journey of ``citizen.journeys`` with Locust's client: each call is a
        request in the reports under its ``name``; time in the BankID app is left out
        of the journey's duration."""
        reply: journeys.Answer | None = None
        while not isinstance(todo := journeys.advance(steps, reply), journeys.Done):
            if isinstance(todo, journeys.Pause):
                gevent.sleep(todo.seconds)
                if todo.approving:
                    self.waited += todo.seconds
                reply = None
            else:
                reply = self.send(todo)
        return todo.value  # type: ignore[no-any-return]

    def send(self, c: journeys.Call) -> journeys.Answer:
        url = {"phone": self.phone, "freja": self.freja}.get(c.to, "") + c.path
        kw: dict[str, Any] = {"headers": dict(c.headers)}
        if c.json is not None:
            kw["json"] = dict(c.json)
        if c.form is not None:
            kw["data"] = urlencode(dict(c.form))
            kw["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
        with self.client.request(c.method, url, name=c.name, catch_response=True,
                                 allow_redirects=False, **kw) as resp:
            if resp.status_code in c.expect:
                resp.success()
            else:
                resp.failure(f"{resp.status_code}, wanted {c.expect}")
            return journeys.Answer(resp.status_code, resp.text or "",
                                   resp.headers.get("location", ""))

    @contextmanager
    def journey(self, name: str) -> Iterator[None]:
        self.client.cookiejar.clear()  # a fresh browser
        self.waited = 0.0
        start = time.perf_counter()
        error: Exception | None = None
        try:
            yield
        except journeys.JourneyFailed as exc:
            error = exc
        elapsed = (time.perf_counter() - start - self.waited) * 1000
        self.environment.events.request.fire(
            request_type=JOURNEY, name=name, response_time=elapsed, response_length=0,
            exception=error, context={})

    # --- journeys as the scenarios use them ---------------------------------------------
    def bankid_login(self, es: journeys.EService, pnr: str, *,
                     device: str = "same") -> dict[str, Any]:
        """The page's script: collect every 2 s, a new QR code every second."""
        return self.follow(journeys.bankid_login(es, pnr, device=device,
                                              approval_s=approval_delay(), qr_every_s=1.0))

    def sso(self, es: journeys.EService) -> dict[str, Any]:
        """A second e-service with a live session: a code with no login page."""
        code, flow = self.follow(journeys.sso(es))
        return self.follow(journeys.redeem(es, flow, code))


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

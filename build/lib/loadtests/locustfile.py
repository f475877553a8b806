"""Locust scenarios for idportal: whole citizen journeys against the running cluster.

Run through ``idportal load`` (it hands over the cluster description and picks the
scenario's user classes), or by hand:
    IDPORTAL_CLUSTER_JSON=status.json locust -f loadtests/locustfile.py --headless ...

User classes (weights model a morning peak: most people log in with BankID on their
phone, one in five continues into a second e-service, apps refresh their tokens):
    BankIDCitizen  40  BankID login (QR or same device) to Mina sidor, token, userinfo
    SSOCitizen     15  BankID login, then SSO into Bygglov (no login page), both tokens
    PinCitizen     15  PIN login; some mistype the PIN once, a few mistype the number
    StepUpCitizen   5  PIN session stepped up with BankID for Bygglov (LoA3)
    FrejaCitizen    5  Freja eID login (QR or same device) to Mina sidor, token, userinfo
    AppRefresher   15  a logged-in app refreshing its tokens (rotation every time)
    LogoutCitizen  10  login, SSO, logout: back-channel logout to both e-services
Shapes (IDPORTAL_SHAPE): constant, ramp, spike (the morning peak), soak, step.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Callable
from typing import Any

from locust import LoadTestShape, between, events, task

from citizen import journeys
from loadtests import slo
from loadtests.journeys import (
    BYGGLOV,
    MINA,
    Citizen,
    any_citizen,
    approval_delay,
    lockout_citizen,
    pin_citizen,
)

WRONG_PIN_SHARE = float(os.environ.get("IDPORTAL_WRONG_PIN_SHARE", "0.1"))


def think_time(default: str = "0.5-2") -> Callable[[Any], float]:
    """Seconds between a user's journeys: IDPORTAL_THINK_TIME, a number or a range ("0"
    for capacity runs that must saturate the nodes)."""
    lo, _, hi = os.environ.get("IDPORTAL_THINK_TIME", default).partition("-")
    a, b = float(lo), float(hi or lo)
    return lambda _user: random.uniform(a, b)
INVALID_NUMBER_SHARE = float(os.environ.get("IDPORTAL_INVALID_NUMBER_SHARE", "0.03"))
LOCKOUT_SHARE = float(os.environ.get("IDPORTAL_LOCKOUT_SHARE", "0.02"))
# Lockouts come at a fixed interval rather than by a draw, so that a short run with
# a few users always has some (by chance, 3 users in 8 s at 0.3 had none about 3 % of
# the time) and the mix is the same from run to run.
_PIN_JOURNEYS = itertools.count(1)
_LOCKOUT_EVERY = round(1 / LOCKOUT_SHARE) if LOCKOUT_SHARE > 0 else 0


def lockout_turn() -> bool:
    """True for every ``1 / LOCKOUT_SHARE``-th PIN journey of this process."""
    n = next(_PIN_JOURNEYS)
    return bool(_LOCKOUT_EVERY) and n % _LOCKOUT_EVERY == 0


class BankIDCitizen(Citizen):
    weight = 40
    wait_time = think_time("0.5-2.0")

    @task
    def login(self) -> None:
        device = "other" if random.random() < 0.6 else "same"
        with self.journey(f"bankid_login_{device}"):
            self.bankid_login(MINA, any_citizen(), device=device)


class FrejaCitizen(Citizen):
    weight = 5
    wait_time = think_time("0.5-2.0")

    @task
    def login(self) -> None:
        device = "other" if random.random() < 0.6 else "same"
        with self.journey(f"freja_login_{device}"):
            self.follow(journeys.freja_login(MINA, any_citizen(), device=device,
                                             poll_s=2.0))


class SSOCitizen(Citizen):
    weight = 15
    wait_time = think_time("0.5-2.0")

    @task
    def login_then_second_eservice(self) -> None:
        with self.journey("bankid_login_then_sso"):
            self.bankid_login(MINA, any_citizen())
            self.sso(BYGGLOV)


class PinCitizen(Citizen):
    weight = 15
    wait_time = think_time("0.5-2.0")

    @task
    def login(self) -> None:
        if lockout_turn():
            self.lockout()
            return
        with self.journey("pin_login"):
            screen = self.follow(journeys.open_login(MINA))
            pnr = pin_citizen()
            r = random.random()
            if r < INVALID_NUMBER_SHARE:
                wrong = pnr[:-1] + str((int(pnr[-1]) + 1) % 10)
                self.follow(journeys.pin(screen, wrong, "1234", expect=(400,)))
            elif r < INVALID_NUMBER_SHARE + WRONG_PIN_SHARE:
                self.follow(journeys.pin(screen, pnr, "9999", expect=(401,)))
            answer = self.follow(journeys.pin(screen, pnr, "1234"))
            tokens = self.follow(journeys.redeem(
                MINA, screen.flow, journeys.code_of("pin", answer.location, screen.flow)))
            self.follow(journeys.userinfo(tokens["access_token"]))


    def lockout(self) -> None:
        """Someone guesses a citizen's PIN: after five misses from one address the PIN is
        locked (429, the way out on the page), and even the right PIN is refused. A lock
        left by an earlier journey on the same citizen answers 429 from the start."""
        with self.journey("pin_lockout"):
            screen = self.follow(journeys.open_login(MINA))
            pnr = lockout_citizen()
            for _ in range(5):
                if self.follow(journeys.pin(screen, pnr, "0000", expect=(401, 429))).status == 429:
                    break
            self.follow(journeys.pin(screen, pnr, "1234", expect=(429,)))


class StepUpCitizen(Citizen):
    weight = 5
    wait_time = think_time("0.5-2.0")

    @task
    def pin_then_bankid_for_loa3(self) -> None:
        with self.journey("pin_then_step_up"):
            screen = self.follow(journeys.open_login(MINA))
            pnr = pin_citizen()
            answer = self.follow(journeys.pin(screen, pnr, "1234"))
            self.follow(journeys.redeem(MINA, screen.flow,
                                     journeys.code_of("pin", answer.location, screen.flow)))
            # Bygglov needs LoA3: the LoA2 session gets the method page again (step-up).
            screen = self.follow(journeys.open_login(BYGGLOV))
            code = self.follow(journeys.bankid_code(screen, pnr, approval_s=approval_delay()))
            self.follow(journeys.redeem(BYGGLOV, screen.flow, code))


class AppRefresher(Citizen):
    """An app keeps its own pace (it refreshes when its access token nears expiry), so a
    capacity run's zero think time does not turn it into a refresh hammer."""

    weight = 15
    wait_time = between(0.5, 1.5)
    refresh_token = ""

    @task
    def refresh(self) -> None:
        if not self.refresh_token:
            with self.journey("app_login"):
                self.refresh_token = self.bankid_login(MINA, any_citizen())["refresh_token"]
            return
        with self.journey("refresh"):
            self.refresh_token = self.follow(
                journeys.refresh(MINA, self.refresh_token))["refresh_token"]


class LogoutCitizen(Citizen):
    weight = 10
    wait_time = think_time("0.5-2.0")

    @task
    def login_sso_logout(self) -> None:
        with self.journey("login_sso_logout"):
            tokens = self.bankid_login(MINA, any_citizen())
            self.sso(BYGGLOV)
            self.follow(journeys.logout(tokens["id_token"]))


def _mark(variable: str) -> None:
    """Write the file the environment names, once (the capacity planner waits for it)."""
    path = os.environ.get(variable)
    if path and not os.path.exists(path):
        with open(path, "w") as f:
            f.write(str(time.time()))


class Shape(LoadTestShape):
    """Bounded load shapes, chosen by IDPORTAL_SHAPE; every one ends by itself.

    constant: USERS for DURATION; ramp: 0 → USERS over DURATION; spike: a quiet 20 %
    base, a climb to USERS in 10 % of the time (08:00), hold, fall back; soak: USERS for
    DURATION (long, still bounded); step: USERS/STEPS more users every DURATION/STEPS.
    """

    def tick(self) -> tuple[int, float] | None:
        shape = os.environ.get("IDPORTAL_SHAPE", "constant")
        users = int(os.environ.get("IDPORTAL_USERS", "10"))
        duration = float(os.environ.get("IDPORTAL_DURATION", "60"))
        steps = max(1, int(os.environ.get("IDPORTAL_STEPS", "5")))
        # A warm-up before the measured DURATION (idportal capacity): the users spawn
        # during it, and marker files tell the planner when measuring starts and ends.
        warmup = float(os.environ.get("IDPORTAL_WARMUP", "0"))
        t = self.get_run_time()  # type: ignore[no-untyped-call]
        if t >= warmup + duration:
            _mark("IDPORTAL_MARK_END")
            return None
        if warmup and t >= warmup:
            _mark("IDPORTAL_MARK_START")
        rate = max(1.0, users / (warmup or 5))
        if shape == "ramp":
            return max(1, round(users * t / duration)), rate
        if shape == "spike":
            base = max(1, users // 5)
            if t < 0.3 * duration:
                return base, rate
            if t < 0.4 * duration:
                return base + round((users - base) * (t - 0.3 * duration) / (0.1 * duration)), rate * 4
            if t < 0.7 * duration:
                return users, rate * 4
            return base, rate
        if shape == "step":
            return max(1, round(users * (int(t // (duration / steps)) + 1) / steps)), rate * 2
        return users, rate


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def enforce_slo(environment: object, **_: object) -> None:
    """The run's exit code is the SLO verdict: 3 when one is broken, else 0 (a few
    failed requests within the allowed error rate do not fail the run)."""
    stats = environment.stats  # type: ignore[attr-defined]
    duration = max(1.0, (stats.last_request_timestamp or 0) - (stats.start_time or 0))
    broken = slo.breaches(slo.load(), slo.from_locust(stats), duration_s=duration)
    for b in broken:
        print(f"SLO broken: {b}")
    if broken:
        environment.process_exit_code = 3  # type: ignore[attr-defined]
    else:
        environment.process_exit_code = 0  # type: ignore[attr-defined]
        print("SLOs met")


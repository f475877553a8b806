"""Checks after healing, against what citizens and e-services were told:

- lost sessions: every session acknowledged (cookie received) and not logged out still
  answers ``prompt=none`` with a code (a session whose logout was sent but never
  answered is checked neither way: it may have ended);
- resurrected logouts: every acknowledged logout still answers ``login_required``;
- double redemption: every redeemed code is refused a second time, every rotated-away
  refresh token is refused;
- lost audit events: every login a citizen was told finished has its audit event in
  PostgreSQL once the shippers have caught up.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from citizen import protocol
from ha.drills.history import Artifacts
from ha.drills.journeys import SESSION_COOKIE, Target, ssl_context
from ha.stack import DEMO_SECRET


@dataclass
class Checks:
    # Each check reads back at most ``limit`` of what there was (the *_total): a
    # report says "400 of 1,316".
    sessions_checked: int = 0
    sessions_total: int = 0
    lost_sessions: int = 0
    logouts_checked: int = 0
    logouts_total: int = 0
    resurrected_logouts: int = 0
    codes_checked: int = 0
    codes_total: int = 0
    double_redemptions: int = 0
    refresh_checked: int = 0
    refresh_total: int = 0
    refresh_reuse_accepted: int = 0
    unknown: int = 0
    # Logouts sent whose answer never came: those sessions are checked neither way.
    logouts_unacknowledged: int = 0
    # Acknowledged logins whose audit event must be in PostgreSQL, and those missing.
    audit_checked: int = 0
    audit_missing: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not (self.lost_sessions or self.resurrected_logouts or self.double_redemptions
                    or self.refresh_reuse_accepted or self.audit_missing)


async def _sso(http: aiohttp.ClientSession, t: Target, cookie: str) -> str:
    """'code', 'login_required' or 'unknown' for ``prompt=none`` with this session."""
    _, challenge = protocol.pkce()
    q = urlencode({"client_id": "mina-sidor", "response_type": "code", "scope": "openid",
                   "redirect_uri": t.mina_redirect, "state": secrets.token_urlsafe(6),
                   "code_challenge": challenge, "code_challenge_method": "S256",
                   "prompt": "none"})
    for _ in range(3):
        try:
            async with http.get(f"{t.issuer}/authorize?{q}", allow_redirects=False,
                                headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}) as r:
                if r.status == 303:
                    got = protocol.query_of(r.headers["location"])
                    if "code" in got:
                        return "code"
                    if got.get("error") == "login_required":
                        return "login_required"
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    return "unknown"


def audit(t: Target, a: Artifacts, out: Checks, *, wait_s: float = 45.0) -> None:
    """Every login the citizens were told finished has its audit event in PostgreSQL
    (after the shippers have caught up: waits up to ``wait_s``)."""
    if not t.settings_file or not a.logins:
        return
    from collections import Counter

    from service.audit import pg
    from service.audit.events import PSEUDONYM_PURPOSE, pseudonym
    from service.oidc import keyring
    from service.settings import load_settings

    settings = load_settings(t.settings_file)
    if not settings.audit.dsn:
        return
    key = keyring.load(Path(settings.keys_dir), publish_for=0).derived_key(PSEUDONYM_PURPOSE)
    want = Counter(pseudonym(key, pnr) for _, pnr in a.logins)
    since = min(when for when, _ in a.logins) - 5
    out.audit_checked = sum(want.values())
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with pg.connect_sync(settings.audit) as conn:
                got = Counter({row[0]: row[1] for row in conn.execute(
                    "SELECT subject, count(*) FROM audit_events WHERE kind = 'login' AND "
                    "outcome = 'success' AND client_id = 'mina-sidor' AND ts >= "
                    "to_timestamp(%s) GROUP BY subject", (since,)).fetchall()})
            missing = sum(max(0, n - got.get(s, 0)) for s, n in want.items())
        except Exception:  # the audit store may still be coming back
            missing = out.audit_checked
        if not missing or time.monotonic() > deadline:
            out.audit_missing = missing
            if missing:
                out.examples.append(f"{missing} acknowledged logins without an audit event")
            return
        time.sleep(1.0)


async def run(t: Target, a: Artifacts, *, limit: int = 400) -> Checks:
    out = Checks()
    await asyncio.to_thread(audit, t, a, out)
    logged_out = {c for _, c in a.logged_out}
    connector = aiohttp.TCPConnector(ssl=ssl_context(t.ca_file), limit=16)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     timeout=aiohttp.ClientTimeout(total=10)) as http:
        sem = asyncio.Semaphore(16)

        async def session(cookie: str, want: str) -> None:
            async with sem:
                got = await _sso(http, t, cookie)
            if got == "unknown":
                out.unknown += 1
            elif got != want:
                if want == "code":
                    out.lost_sessions += 1
                    out.examples.append("lost session")
                else:
                    out.resurrected_logouts += 1
                    out.examples.append("logged-out session answered with a code")

        unacknowledged = a.logout_sent - logged_out
        every_alive = [c for _, c in a.sessions
                       if c not in logged_out and c not in unacknowledged]
        alive, ended = every_alive[:limit], list(logged_out)[:limit]
        out.sessions_checked, out.sessions_total = len(alive), len(every_alive)
        out.logouts_checked, out.logouts_total = len(ended), len(logged_out)
        out.logouts_unacknowledged = len(unacknowledged)
        await asyncio.gather(*(session(c, "code") for c in alive),
                             *(session(c, "login_required") for c in ended))

        basic = {"Authorization": "Basic " + base64.b64encode(
            f"mina-sidor:{DEMO_SECRET}".encode()).decode()}

        async def token(form: dict[str, str]) -> int:
            async with sem, http.post(f"{t.issuer}/token", data=form, headers=basic) as r:
                await r.read()
                return r.status

        every_code = [(c, v) for client, c, v in a.codes if client == "mina-sidor"]
        codes = every_code[:limit]
        out.codes_checked, out.codes_total = len(codes), len(every_code)
        statuses = await asyncio.gather(*(token({
            "grant_type": "authorization_code", "code": c, "code_verifier": v,
            "redirect_uri": t.mina_redirect}) for c, v in codes))
        out.double_redemptions = sum(1 for s in statuses if s == 200)
        every_rt = [rt for client, rt in a.rotated if client == "mina-sidor"]
        rts = every_rt[:limit]
        out.refresh_checked, out.refresh_total = len(rts), len(every_rt)
        statuses = await asyncio.gather(*(token({"grant_type": "refresh_token",
                                                 "refresh_token": rt}) for rt in rts))
        out.refresh_reuse_accepted = sum(1 for s in statuses if s == 200)
    return out

""""Mina inloggningar": a citizen's own page at idportal. After a login at idportal itself
(the built-in client ``idportal``: BankID, Freja eID+ or a card, LoA3) it shows the
citizen's live sessions by e-service, their recent logins from the audit trail, and
"log out everywhere" (every session ended, every e-service told by back-channel
logout), the browser and system each session was started from, and a form to choose a
new PIN (no old PIN needed: the LoA3 login is the stronger proof; a pending letter's
code is void then). Same rules as the login pages: both languages, no JavaScript
needed."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import psycopg
import structlog
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from service import loa, pin_pages
from service.audit import pg
from service.audit.events import PSEUDONYM_PURPOSE, AuditEvent, pseudonym
from service.crypto import digest, mac, new_id, same
from service.oidc import pkce
from service.oidc.clients import SELF_SERVICE, SELF_SERVICE_PATH
from service.records import Session
from service.sso import backchannel
from service.state import Node, node
from service.web import devices, http, i18n
from service.web.render import page

log = structlog.get_logger("idportal.selfservice")
CSRF_PURPOSE = b"self-service form v1"


def _locale(request: Request, n: Node) -> str:
    return http.locale(request, (), n.settings.default_locale)


def _csrf(n: Node, session: Session) -> str:
    key = n.keys.current.derived_key(CSRF_PURPOSE)
    return mac(key, session.sid.encode()).hex()[:32]


def login_url(n: Node) -> str:
    """Log in to the own page like to any e-service (its code is never redeemed: the
    SSO session is what the page needs)."""
    challenge = pkce.s256(new_id(32))
    return "/authorize?" + urlencode({
        "client_id": SELF_SERVICE, "response_type": "code", "scope": "openid",
        "redirect_uri": n.settings.issuer.rstrip("/") + SELF_SERVICE_PATH,
        "state": new_id(12), "code_challenge": challenge, "code_challenge_method": "S256"})


async def _session(request: Request, n: Node) -> tuple[str, Session | None]:
    """The browser's SSO session if it was proven at LoA3 (BankID, Freja eID+ PLUS, a
    card): a PIN session is asked to log in again, stronger, before the page shows it."""
    cookie = http.get_cookie(request, http.SESSION_COOKIE, secure=n.settings.cookie_secure)
    if not cookie:
        return "", None
    session = await n.store.sessions.get(cookie, now=n.now())
    if session is None or loa.rank(session.identity.acr) < loa.rank(loa.LOA3):
        return cookie, None
    return cookie, session


async def show(request: Request) -> Response:
    """GET /mina-inloggningar (also the callback of its own login)."""
    return await _show(request)


async def _show(request: Request, *, pin_error: str = "", pin_changed: bool = False
                ) -> Response:
    n = node(request)
    if "code" in request.query_params or "error" in request.query_params:
        return RedirectResponse(SELF_SERVICE_PATH, status_code=303)  # a clean address
    loc = _locale(request, n)
    cookie, session = await _session(request, n)
    switch = f"{SELF_SERVICE_PATH}?lang={'en' if loc == 'sv' else 'sv'}"
    if session is None:
        return page("selfservice.html", locale=loc, request_id=http.request_id(request),
                    login=login_url(n), switch_url=switch)
    me = session.identity
    mine = digest(cookie)
    sessions = [{"this": d == mine, "since": time.strftime("%Y-%m-%d %H:%M", time.localtime(
        s.created)), "method": s.identity.method, "device": device_name(loc, s.device),
        "e_services": [_name(n, c) for c in s.clients if c != SELF_SERVICE]}
        for d, s in await n.store.sessions.of_person(me.personal_number)]
    pin = await n.store.pin_records.get(me.personal_number)
    recent: list[dict[str, Any]] | None = None
    if n.settings.audit.dsn:
        subject = pseudonym(n.keys.current.derived_key(PSEUDONYM_PURPOSE), me.personal_number)
        try:
            recent = await pg.recent(n.settings.audit, subject)
        except (psycopg.Error, OSError) as exc:
            log.warning("selfservice_audit_unavailable", error=type(exc).__name__)
    return page("selfservice.html", locale=loc, request_id=http.request_id(request),
                name=me.name, sessions=sessions, recent=recent, csrf=_csrf(n, session),
                switch_url=switch, names={c.client_id: c.name for c in
                                          n.registry.clients.values()},
                pin_state=pin.state if pin else "none", pin_error=pin_error,
                pin_changed=pin_changed, status=400 if pin_error else 200)


def device_name(loc: str, device: str) -> str:
    """"Firefox on Windows" from a session's ``devices.kind``."""
    browser, _, system = device.partition("|")
    if not browser:
        return i18n.text(loc, "self_device_unknown")
    if browser == devices.UNKNOWN:  # not a browser the rules know: its own first word
        return f"{i18n.text(loc, 'self_device_unknown')} ({system})"
    return i18n.text(loc, "self_device", browser=browser, os=system)


def _name(n: Node, client_id: str) -> str:
    client = n.registry.get(client_id)
    return client.name if client else client_id


async def _own_form(request: Request) -> tuple[Node, Session, dict[str, str], str] | Response:
    """A form posted from the own page: the session (proven at LoA3) and the page's CSRF
    token checked, or the 403 page to answer with."""
    n = node(request)
    form, _ = await http.form(request, limit=n.settings.max_body_bytes)
    _, session = await _session(request, n)
    loc = _locale(request, n)
    if session is None or not same(form.get("csrf", ""), _csrf(n, session)):
        return page("error.html", locale=loc, request_id=http.request_id(request),
                    status=403, message=i18n.text(loc, "err_csrf"))
    return n, session, form, loc


async def logout_everywhere(request: Request) -> Response:
    """POST /mina-inloggningar/logout: every session of this citizen ends, every e-service
    is told; recorded in the audit trail."""
    checked = await _own_form(request)
    if isinstance(checked, Response):
        return checked
    n, session, _, loc = checked
    now = n.now()
    ended, deliveries = 0, []
    for d, _ in await n.store.sessions.of_person(session.identity.personal_number):
        done = await n.store.sessions.end_by_digest(
            d, now=now, notify_until=now + n.settings.lifetimes.backchannel_delivery,
            event=AuditEvent(kind="logout", outcome="success", ts=time.time(),
                             node=n.settings.node_name, reference=http.request_id(request),
                             detail={"by": "citizen", "everywhere": True}))
        ended += done.session is not None
        if done.delivery:
            deliveries.append(done.delivery)
    log.info("logout_everywhere", sessions=ended)
    response = page("logout.html", locale=loc, request_id=http.request_id(request),
                    confirm=False)

    async def tell_the_e_services() -> None:  # first try now; the pollers retry
        for delivery in deliveries:
            await backchannel.deliver_now(n, delivery)

    response.background = BackgroundTask(tell_the_e_services)
    http.clear_cookie(response, http.SESSION_COOKIE, secure=n.settings.cookie_secure)
    return response


async def change_pin(request: Request) -> Response:
    """POST /mina-inloggningar/pin: the citizen chooses a new PIN (typed twice, checked
    by ``login.pin_rules``); active at once, recorded in the audit trail."""
    checked = await _own_form(request)
    if isinstance(checked, Response):
        return checked
    n, session, form, loc = checked
    me = session.identity
    pin = form.get("pin", "")[:40]
    problem = pin_pages.choice_error(loc, pin, form.get("pin_repeat", "")[:40],
                                     me.personal_number)
    if problem:
        return await _show(request, pin_error=problem)
    await n.store.pin_records.set_pin(
        me.personal_number, pin_hash=await n.pins.hash(pin), given_name=me.given_name,
        family_name=me.family_name, event=AuditEvent(
            kind="pin_change", outcome="success", ts=time.time(), subject=pseudonym(
                n.keys.current.derived_key(PSEUDONYM_PURPOSE), me.personal_number),
            method=me.method, acr=me.acr, node=n.settings.node_name,
            reference=http.request_id(request), detail={"action": "change", "by": "citizen"}))
    log.info("pin_changed", by="citizen")
    return await _show(request, pin_changed=True)


ROUTES = (
    Route(SELF_SERVICE_PATH, show, name="selfservice"),
    Route(SELF_SERVICE_PATH + "/logout", logout_everywhere, methods=["POST"],
          name="selfservice_logout"),
    Route(SELF_SERVICE_PATH + "/pin", change_pin, methods=["POST"], name="selfservice_pin"),
)

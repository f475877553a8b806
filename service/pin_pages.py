"""Choosing a PIN with a letter's activation code: ``/pin/aktivera`` (``idportal pin
issue`` wrote the letter). Same rules as the login pages: both languages, no
JavaScript, every error said on the page with a support reference.

Each try is throttled like a PIN (``login.lockout``: counted before the code is
verified, in the step that reads the citizen's record); the code is verified against its
argon2id hash, and is taken by the first activation only (``PinRecords.activate``). A
wrong number, a wrong code and a used or expired code get one answer after the same work.
"""

from __future__ import annotations

import time

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import metrics
from service.audit.events import PSEUDONYM_PURPOSE, AuditEvent, pseudonym
from service.crypto import new_id, same
from service.login import lockout, pin_rules
from service.personnummer import InvalidPersonalNumber, parse
from service.state import Node, node
from service.store.retry import StoreUnavailable
from service.web import http, i18n
from service.web.render import page

log = structlog.get_logger("idportal.pin_activation")
ACTIVATION_PATH = "/pin/aktivera"  # the letter names it
FORM_COOKIE = "__Host-idp_pinform"  # the activation form's double-submit token


def choice_error(loc: str, pin: str, repeat: str, personal_number: str) -> str:
    """What is wrong with a PIN the citizen chose (and typed twice), '' when nothing."""
    if pin != repeat:
        return i18n.text(loc, "pin_rule_mismatch")
    return " ".join(i18n.text(loc, k) for k in pin_rules.pin_problems(pin, personal_number))


def _event(n: Node, request: Request, personal_number: str, outcome: str,
           **detail: str) -> AuditEvent:
    return AuditEvent(kind="pin_change", outcome=outcome, ts=time.time(),
                      subject=pseudonym(n.keys.current.derived_key(PSEUDONYM_PURPOSE),
                                        personal_number),
                      method="pin", node=n.settings.node_name,
                      reference=http.request_id(request), detail=detail)


def _form(request: Request, n: Node, loc: str, *, token: str = "", error: str = "",
          personal_number: str = "", status: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    token = token or new_id(16)
    response = page("pin_activate.html", locale=loc, request_id=http.request_id(request),
                    csrf=token, error=error, personal_number=personal_number, status=status,
                    switch_url=f"{ACTIVATION_PATH}?lang={'en' if loc == 'sv' else 'sv'}",
                    headers=headers)
    http.set_cookie(response, FORM_COOKIE, token, secure=n.settings.cookie_secure,
                    max_age=n.settings.lifetimes.login_transaction)
    return response


async def show(request: Request) -> Response:
    n = node(request)
    return _form(request, n, http.locale(request, (), n.settings.default_locale))


async def activate(request: Request) -> Response:
    n = node(request)
    form, _ = await http.form(request, limit=n.settings.max_body_bytes)
    loc = http.locale(request, (), n.settings.default_locale)
    token = http.get_cookie(request, FORM_COOKIE, secure=n.settings.cookie_secure)
    if not token or not same(form.get("csrf", ""), token):
        return page("error.html", locale=loc, request_id=http.request_id(request),
                    status=403, message=i18n.text(loc, "err_csrf"))
    ref = http.request_id(request)
    try:
        pnr = parse(form.get("personal_number", "")[:20])
    except InvalidPersonalNumber as exc:
        return _form(request, n, loc, token=token, status=400, error=i18n.text(
            loc, "invalid_personal_number", detail=str(exc)))
    code = pin_rules.normalise_code(form.get("code", "")[:40])
    if not code:
        return _form(request, n, loc, token=token, status=400, personal_number=pnr.digits,
                     error=i18n.text(loc, "activate_bad_code"))
    pin = form.get("pin", "")[:40]
    problem = choice_error(loc, pin, form.get("pin_repeat", "")[:40], pnr.digits)
    if problem:
        return _form(request, n, loc, token=token, status=400, personal_number=pnr.digits,
                     error=problem)
    ip = http.client_ip(request, n.settings.trusted_proxies)
    cfg = n.settings.pin
    limits = lockout.limits_for(known_browser=False, per_person=cfg.max_failures_per_person,
                                per_person_ip=cfg.max_failures_per_person_ip,
                                per_ip=cfg.max_failures_per_ip)
    held = await n.store.pins.reserve(pnr.digits, ip, "", limits=(
        limits.person, limits.person_bucket, limits.address))
    if held.locked_for:
        metrics.PIN_ACTIVATIONS.labels("locked").inc()
        minutes = max(1, -(-held.locked_for // 60))
        return _form(request, n, loc, token=token, status=429, personal_number=pnr.digits,
                     error=i18n.text(loc, "pin_locked", minutes=str(minutes), ref=ref),
                     headers={"Retry-After": str(held.locked_for)})
    record = held.record
    live = record is not None and record.code_live(n.now())
    verdict = await n.pins.verify(record.code_hash if record and live else "", code)
    if record is None or not live or not verdict.ok:
        metrics.PIN_ACTIVATIONS.labels("failed").inc()
        await _audit(n, _event(n, request, pnr.digits, "failure", action="activate",
                               reason="code_wrong_or_expired"))
        log.info("pin_activation", outcome="failed", pnr=pnr.masked)
        return _form(request, n, loc, token=token, status=401, personal_number=pnr.digits,
                     error=i18n.text(loc, "activate_failed", ref=ref))
    pin_hash = await n.pins.hash(pin)
    if not await n.store.pin_records.activate(
            pnr.digits, code_hash=record.code_hash, pin_hash=pin_hash,
            event=_event(n, request, pnr.digits, "success", action="activate")):
        metrics.PIN_ACTIVATIONS.labels("used").inc()
        return _form(request, n, loc, token=token, status=409, personal_number=pnr.digits,
                     error=i18n.text(loc, "activate_used"))
    metrics.PIN_ACTIVATIONS.labels("success").inc()
    log.info("pin_activation", outcome="success", pnr=pnr.masked)
    response = page("pin_done.html", locale=loc, request_id=ref,
                    switch_url=f"{ACTIVATION_PATH}?lang={'en' if loc == 'sv' else 'sv'}")
    http.clear_cookie(response, FORM_COOKIE, secure=n.settings.cookie_secure)
    return response


async def _audit(n: Node, event: AuditEvent) -> None:
    """A failed activation: recorded best effort (a store outage is logged)."""
    try:
        await n.store.audit.record(event)
    except StoreUnavailable:
        log.error("audit_record_failed", kind=event.kind)


ROUTES = (
    Route(ACTIVATION_PATH, show, name="pin_activation"),
    Route(ACTIVATION_PATH, activate, methods=["POST"], name="pin_activate"),
)

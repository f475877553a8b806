"""Personal number + PIN (LoA2).

Throttled by the lockout policy (``service.login.lockout``): every attempt is counted
before its PIN is verified. A wrong PIN and an unknown person get the same answer after
the same work (one argon2 verification), so the page tells an attacker nothing; a locked
attempt is refused at once, with the way out (BankID, the support desk), whoever the
person is. The PIN is looked up in the store's register (``store.pin_records``) in the
same round trip that counts the attempt; a revoked PIN, or one whose letter is still
out, is no PIN. A right PIN from an imported register in an older scheme is re-hashed to
argon2id there and then.
"""

from __future__ import annotations

import time

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import metrics
from service.errors import PageError
from service.login import flow, lockout
from service.login.proof import Proof
from service.login.transaction import Transaction
from service.personnummer import InvalidPersonalNumber, parse
from service.state import Node, node
from service.store.counters import PinAttempt
from service.store.retry import StoreUnavailable
from service.web import http, i18n
from service.web.render import page

NAME = "pin"
log = structlog.get_logger("idportal.pin")


def _form_page(request: Request, n: Node, tx: Transaction, *, error: str = "",
               personal_number: str = "", status: int = 200,
               headers: dict[str, str] | None = None) -> Response:
    loc = flow.page_locale(request, n, tx)
    return page("pin.html", locale=loc, request_id=http.request_id(request), tx_id=tx.tx_id,
                user_message=flow.user_message(tx, loc),
                csrf=tx.csrf, error=error, personal_number=personal_number, status=status,
                switch_url=f"/login/{tx.tx_id}/pin?lang={'en' if loc == 'sv' else 'sv'}",
                headers=headers)


async def _tx(request: Request, csrf: str | None) -> tuple[Node, Transaction]:
    n = node(request)
    tx = await flow.guard(request, request.path_params["tx"], csrf=csrf)
    if NAME not in flow.methods_of(n, tx):
        raise PageError("err_tx_expired", status=403)
    return n, tx


async def form_page(request: Request) -> Response:
    n, tx = await _tx(request, None)
    return _form_page(request, n, tx, personal_number=flow.hinted_number(tx))


async def submit(request: Request) -> Response:
    n = node(request)
    form, _ = await http.form(request, limit=n.settings.max_body_bytes)
    raw = form.get("personal_number", "")[:20]
    pin = form.get("pin", "")
    ip = http.client_ip(request, n.settings.trusted_proxies)
    n, tx = await _tx(request, form.get("csrf", ""))
    loc = flow.page_locale(request, n, tx)
    try:
        pnr = parse(raw)
    except InvalidPersonalNumber as exc:
        metrics.LOGINS.labels(NAME, "invalid_personal_number").inc()
        return _form_page(request, n, tx, status=400, personal_number="",
                          error=i18n.text(loc, "invalid_personal_number", detail=str(exc)))
    secret = n.keys.current.subject_secret
    device = lockout.known_device(secret, http.get_cookie(
        request, lockout.DEVICE_COOKIE, secure=n.settings.cookie_secure), pnr.digits)
    cfg = n.settings.pin
    limits = lockout.limits_for(known_browser=bool(device), per_person=cfg.max_failures_per_person,
                                per_person_ip=cfg.max_failures_per_person_ip,
                                per_ip=cfg.max_failures_per_ip)
    # The attempt is counted before the PIN is verified (lockout.py): parallel guesses
    # can never get more verifications than the limits allow. The same step reads the
    # citizen's PIN record.
    held = await n.store.pins.reserve(
        pnr.digits, ip, device, limits=(limits.person, limits.person_bucket, limits.address))
    locked_for = held.locked_for
    if locked_for:
        metrics.LOGINS.labels(NAME, "locked").inc()
        log.info("login", method=NAME, outcome="locked", pnr=pnr.masked,
                 client_id=tx.request.client_id, known_browser=bool(device))
        await flow.audit_failure(request, n, tx, NAME, "pin_locked", personal_number=pnr.digits)
        minutes = max(1, -(-locked_for // 60))
        return _form_page(request, n, tx, status=429, personal_number=pnr.digits,
                          error=i18n.text(loc, "pin_locked", minutes=str(minutes),
                                          ref=http.request_id(request)),
                          headers={"Retry-After": str(locked_for)})
    plausible = 1 <= len(pin) <= 12 and pin.isdigit()
    record = held.record if held.record is not None and held.record.usable and plausible \
        else None
    verdict = await n.pins.verify(record.pin_hash if record else "", pin[:12])
    if record is None or not verdict.ok:
        metrics.LOGINS.labels(NAME, "failed").inc()
        log.info("login", method=NAME, outcome="failed", pnr=pnr.masked,
                 client_id=tx.request.client_id, known_browser=bool(device))
        await flow.audit_failure(request, n, tx, NAME, "pin_wrong", personal_number=pnr.digits)
        return _form_page(request, n, tx, status=401, personal_number=pnr.digits,
                          error=i18n.text(loc, "pin_failed"))
    if verdict.rehashed:  # an imported register's older scheme: argon2id from now on
        try:
            await n.store.pin_records.rehash(pnr.digits, old=record.pin_hash,
                                             new=verdict.rehashed)
        except StoreUnavailable:  # the next login tries again; this one goes on
            log.warning("pin_rehash_deferred", pnr=pnr.masked)
    identity = Proof(pnr, record.given_name, record.family_name, NAME, level=2,
                     evidence="pin:register").identity(n.settings.loa_levels, int(time.time()))
    # The reservation is given back in the round trip that finishes the login.
    return await flow.complete(request, n, tx, identity, pin=PinAttempt(
        pnr.digits, ip, device, person_counted=bool(limits.person)))


# The pages of this way in, under its own path (service/login/methods.py mounts them).
ROUTES = (
    Route("/login/{tx}/pin", form_page, name="pin_page"),
    Route("/login/{tx}/pin", submit, methods=["POST"], name="pin_submit"),
)

"""Personal number + PIN (LoA2).

Throttled per person, per person and address, and per address, with counters in the
store. Wrong PIN, unknown person and a locked PIN get the same answer after the same
work (one argon2 verification), so the page tells an attacker nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from redis.asyncio.client import Pipeline
from starlette.requests import Request
from starlette.responses import Response

from service import metrics
from service.errors import PageError
from service.login import flow, loa
from service.personnummer import InvalidPersonalNumber, parse
from service.records import Identity
from service.state import Node, node
from service.store.transactions import Transaction
from service.web import http, i18n
from service.web.render import page

log = structlog.get_logger("idportal.pin")


def _form_page(request: Request, n: Node, tx: Transaction, *, error: str = "",
               personal_number: str = "", status: int = 200) -> Response:
    loc = flow.page_locale(request, n, tx)
    return page("pin.html", locale=loc, request_id=http.request_id(request), tx_id=tx.tx_id,
                csrf=tx.csrf, error=error, personal_number=personal_number, status=status,
                switch_url=f"/login/{tx.tx_id}/pin?lang={'en' if loc == 'sv' else 'sv'}")


async def _tx(request: Request, csrf: str | None,
              extra: Callable[[Pipeline], None] | None = None
              ) -> tuple[Node, Transaction, list[Any]]:
    n = node(request)
    tx, answers = await flow.guard_reading(request, request.path_params["tx"], csrf=csrf,
                                           extra=extra)
    if "pin" not in flow.methods_of(n, tx):
        raise PageError("err_tx_expired", status=403)
    return n, tx, answers


async def form_page(request: Request) -> Response:
    n, tx, _ = await _tx(request, None)
    return _form_page(request, n, tx, personal_number=flow.hinted_number(tx))


async def submit(request: Request) -> Response:
    n = node(request)
    form, _ = await http.form(request, limit=n.settings.max_body_bytes)
    raw = form.get("personal_number", "")[:20]
    pin = form.get("pin", "")
    ip = http.client_ip(request, n.settings.trusted_proxies)
    try:
        pnr = parse(raw)
    except InvalidPersonalNumber as exc:
        n, tx, _ = await _tx(request, form.get("csrf", ""))
        metrics.LOGINS.labels("pin", "invalid_personal_number").inc()
        loc = flow.page_locale(request, n, tx)
        return _form_page(request, n, tx, status=400, personal_number="",
                          error=i18n.text(loc, "invalid_personal_number", detail=str(exc)))
    # The failure counters are read in the transaction's round trip.
    n, tx, answers = await _tx(request, form.get("csrf", ""),
                               extra=lambda pipe: n.store.pins.read_in(pipe, pnr.digits, ip))
    failures = n.store.pins.parse(answers[0])
    limits = n.settings.pin
    locked = (failures.person >= limits.max_failures_per_person
              or failures.person_ip >= limits.max_failures_per_person_ip
              or failures.ip >= limits.max_failures_per_ip)
    citizen = None
    if locked or not (1 <= len(pin) <= 12 and pin.isdigit()):
        await n.pins.burn()
    else:
        citizen = await n.pins.verify(pnr.digits, pin)
    if citizen is None:
        outcome = "locked" if locked else "failed"
        if not locked:
            await n.store.pins.record_failure(pnr.digits, ip)
        metrics.LOGINS.labels("pin", outcome).inc()
        log.info("login", method="pin", outcome=outcome, pnr=pnr.masked,
                 client_id=tx.request.client_id)
        return _form_page(request, n, tx, status=401, personal_number=pnr.digits,
                          error=i18n.text(flow.page_locale(request, n, tx), "pin_failed"))
    if failures.person or failures.person_ip:
        await n.store.pins.clear(pnr.digits, ip)
    identity = Identity(personal_number=pnr.digits, given_name=citizen.given_name,
                        family_name=citizen.family_name, method="pin",
                        acr=loa.METHOD_ACR["pin"], auth_time=int(time.time()),
                        birthdate=pnr.birthdate.isoformat(),
                        coordination_number=pnr.is_coordination_number)
    return await flow.complete(request, n, tx, identity)

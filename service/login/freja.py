"""Freja eID+ (a second e-ID provider): LoA3 for a citizen registered at PLUS, LoA2 at
EXTENDED.

Start: one ``initAuthentication``. For an e-service that named the citizen (or a
step-up of a known one) the request is for that personal number and reaches their
phone; otherwise anyone may scan the QR code (``INFERRED``). The minimum registration
level follows the level this login needs: PLUS for LoA3, EXTENDED for LoA2. The page
shows the QR code and the app link, and is polled (``getOneResult``) by its script or
the "check again" button, as the BankID page is; an approved result, verified against
Freja's signing certificate, finishes the login. The order travels in the sealed login
transaction (``freja:<json>``), never in the store.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from service import metrics
from service.errors import FrejaError, PageError
from service.login import flow, qr
from service.login.proof import Proof
from service.login.transaction import Transaction
from service.personnummer import InvalidPersonalNumber, parse
from service.providers.freja_client import FrejaClient, Result, app_link
from service.records import Identity
from service.state import Node
from service.web import http, i18n
from service.web.http import JSONResponse
from service.web.render import page

log = structlog.get_logger("idportal.freja")

NAME = "freja"
PREFIX = "freja:"  # marks this method's order in Transaction.order
LEVEL_RANK = {"EXTENDED": 2, "PLUS": 3}  # what a registration level reaches


@dataclass(frozen=True, slots=True)
class FrejaOrder:
    auth_ref: str
    device: str  # "other" (QR) or "same" (the app link)
    min_level: str  # EXTENDED | PLUS
    started: float
    status: str = "STARTED"  # Freja's status, or "error" when Freja could not be asked

    def to_order(self) -> str:
        return PREFIX + json.dumps(asdict(self), separators=(",", ":"))

    @property
    def finished(self) -> bool:
        return self.status not in ("STARTED", "DELIVERED_TO_MOBILE")


def _order(tx: Transaction) -> FrejaOrder | None:
    if not tx.order.startswith(PREFIX):
        return None
    return FrejaOrder(**json.loads(tx.order[len(PREFIX):]))


def _client(n: Node) -> FrejaClient:
    if n.freja is None:
        raise PageError("err_tx_expired", status=403)
    return n.freja


async def _tx(request: Request, *, post: bool) -> tuple[Node, Transaction, dict[str, str]]:
    return await flow.open_for(request, NAME, post=post)


def min_level(required_rank: int) -> str:
    """The registration level Freja must require for a login that needs ``required_rank``."""
    return "PLUS" if required_rank >= 3 else "EXTENDED"


async def start(request: Request) -> Response:
    n, tx, form = await _tx(request, post=True)
    client = _client(n)
    device = "same" if form.get("device") == "same" else "other"
    previous = _order(tx)
    if previous and not previous.finished:
        await _cancel_quietly(client, previous.auth_ref)
    level = min_level(flow.required_rank(n, tx))
    try:
        ref = await client.start(ssn=flow.identity_required(tx) or tx.step_up_from,
                                 min_level=level)
    except FrejaError as exc:
        metrics.LOGINS.labels(NAME, "error_unavailable").inc()
        log.warning("freja_start_failed", error=exc.code)
        order = FrejaOrder("", device, level, time.time(), "error")
    else:
        order = FrejaOrder(ref, device, level, time.time())
    tx = tx.with_order(order.to_order())
    response = _page(request, n, tx, order)
    flow.keep(response, n, tx)
    return response


async def show(request: Request) -> Response:
    n, tx, _ = await _tx(request, post=False)
    order = _order(tx)
    if order is None:
        return RedirectResponse(f"/login/{tx.tx_id}", status_code=303)
    return _page(request, n, tx, order)


def _page(request: Request, n: Node, tx: Transaction, order: FrejaOrder) -> Response:
    loc = flow.page_locale(request, n, tx)
    return page("freja.html", locale=loc, request_id=http.request_id(request),
                user_message=flow.user_message(tx, loc), tx_id=tx.tx_id, csrf=tx.csrf,
                device=order.device, finished=order.finished, status_key=f"freja_{order.status}",
                link=app_link(order.auth_ref) if order.auth_ref else "",
                interval_ms=int(n.settings.freja.poll_interval_s * 1000),
                status=503 if order.status == "error" else 200,
                switch_url=f"/login/{tx.tx_id}/freja?lang={'en' if loc == 'sv' else 'sv'}")


async def qr_svg(request: Request) -> Response:
    n, tx, _ = await _tx(request, post=False)
    order = _order(tx)
    if order is None or order.finished or not order.auth_ref:
        raise PageError("err_tx_expired", status=404)
    loc = flow.page_locale(request, n, tx)
    return Response(qr.svg(app_link(order.auth_ref), title=i18n.text(loc, "freja_qr_title")),
                    media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


async def collect(request: Request) -> Response:
    """One ``getOneResult``; JSON for the page's script, a redirect without it. An
    approved result finishes the login in the same request."""
    n, tx, _ = await _tx(request, post=True)
    wants_json = request.headers.get("accept", "").startswith("application/json")
    loc = flow.page_locale(request, n, tx)
    order = _order(tx)
    if order is None or not order.auth_ref:
        return _answer(wants_json, order, loc, next_url=f"/login/{tx.tx_id}")
    identity = None
    known = order
    if not order.finished:
        order, identity = await _poll(n, tx, order)
        if order.finished and identity is None:
            await flow.audit_failure(request, n, tx, NAME, f"freja_{order.status.lower()}")
    if identity is not None:
        done = await flow.complete(request, n, tx, identity)
        if not wants_json:
            return done
        answer = _answer(True, order, loc, next_url=done.headers["location"], finish=True)
        answer.raw_headers += [(k, v) for k, v in done.raw_headers if k == b"set-cookie"]
        answer.background = done.background
        return answer
    answer = _answer(wants_json, order, loc, next_url=f"/login/{tx.tx_id}/freja")
    if order != known:
        flow.keep(answer, n, tx.with_order(order.to_order()))
    return answer


async def _poll(n: Node, tx: Transaction, order: FrejaOrder
                ) -> tuple[FrejaOrder, Identity | None]:
    try:
        result: Result = await _client(n).result(order.auth_ref)
    except FrejaError as exc:
        if exc.code in ("unreachable", "http503") or exc.code.startswith("http5"):
            return order, None  # transient: still pending, ask again
        log.warning("freja_result_refused", error=exc.code)
        metrics.LOGINS.labels(NAME, "failed_bad_result").inc()
        return replace(order, status="error"), None
    order = replace(order, status=result.status)
    if result.status != "APPROVED" or result.approved is None:
        if order.finished:
            metrics.LOGINS.labels(NAME, f"failed_{result.status.lower()}").inc()
            log.info("login", method=NAME, outcome="failed", status=result.status)
        return order, None
    who = result.approved
    level = LEVEL_RANK.get(who.registration_level, 0)
    try:
        person = parse(who.ssn)
    except InvalidPersonalNumber:
        level = 0
    if level < LEVEL_RANK[order.min_level]:
        # Freja approved below the level asked for: not a login.
        log.error("freja_level_below_minimum", level=who.registration_level)
        return replace(order, status="REJECTED"), None
    proof = Proof(person, who.given_name, who.surname, NAME, level=level,
                  evidence=f"freja:{order.auth_ref[:64]}:{who.registration_level}")
    return order, proof.identity(n.settings.loa_levels, n.now())


def _answer(wants_json: bool, order: FrejaOrder | None, loc: str, *, next_url: str,
            finish: bool = False) -> Response:
    if not wants_json:
        return RedirectResponse(next_url, status_code=303)
    status = "complete" if finish else (
        "pending" if order and not order.finished else "failed")
    body = {"status": status, "message": i18n.text(
        loc, f"freja_{order.status}" if order else "freja_error")}
    if finish or status == "failed":
        body["next"] = next_url
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def cancel(request: Request) -> Response:
    n, tx, _ = await _tx(request, post=True)
    order = _order(tx)
    if order and order.auth_ref and not order.finished:
        await _cancel_quietly(_client(n), order.auth_ref)
        metrics.LOGINS.labels(NAME, "cancelled").inc()
    response = RedirectResponse(f"/login/{tx.tx_id}", status_code=303)
    flow.keep(response, n, tx.with_order(""))
    return response


async def _cancel_quietly(client: FrejaClient, auth_ref: str) -> None:
    try:
        await client.cancel(auth_ref)
    except FrejaError as exc:
        log.info("freja_cancel_failed", error=exc.code)


# The pages of this way in, under its own path (service/login/methods.py mounts them).
ROUTES = (
    Route("/login/{tx}/freja/start", start, methods=["POST"], name="freja_start"),
    Route("/login/{tx}/freja", show, name="freja_page"),
    Route("/login/{tx}/freja/qr.svg", qr_svg, name="freja_qr"),
    Route("/login/{tx}/freja/collect", collect, methods=["POST"], name="freja_collect"),
    Route("/login/{tx}/freja/cancel", cancel, methods=["POST"], name="freja_cancel"),
)

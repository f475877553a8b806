"""BankID login pages (RP API v6): start an order, show the animated QR code or the
autostart link, collect (which finishes the login when the order completes), cancel.

The page works without JavaScript (buttons to check again and for a fresh QR code)
and better with it (``applogin.js``: QR every second, collect every 2 s, cancel on
leaving). ``qrStartSecret`` travels only inside the sealed transaction; the browser only ever
gets SVG.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import orjson
import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from service import metrics
from service.crypto import mac, new_id, same
from service.errors import BankIDError, PageError
from service.login import bankid_messages as msgs
from service.login import flow, qr
from service.login.proof import Proof
from service.login.transaction import Transaction
from service.oidc import sign_request
from service.personnummer import InvalidPersonalNumber, parse
from service.records import Identity
from service.state import Node
from service.web import http
from service.web.http import JSONResponse
from service.web.render import page

NAME = "bankid"
log = structlog.get_logger("idportal.bankid")


@dataclass(frozen=True, slots=True)
class OrderState:
    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str
    started: float
    device: str  # "other" (QR) or "same" (autostart)
    status: str = "pending"
    hint: str = ""
    rfa: str = ""
    return_nonce: str = ""  # in the order's returnUrl: the app's way back to this login
    mobile: bool = False  # started on a phone or tablet: the universal link

    def to_json(self) -> str:
        return orjson.dumps(self).decode()  # orjson writes dataclasses itself


def _order(tx: Transaction) -> OrderState | None:
    # Another way in's order (``<method>:<json>``) is not a BankID order.
    return OrderState(**orjson.loads(tx.order)) if tx.order.startswith("{") else None


async def _tx(request: Request, *, post: bool) -> tuple[Node, Transaction, dict[str, str]]:
    return await flow.open_for(request, NAME, post=post)


async def start(request: Request) -> Response:
    n, tx, form = await _tx(request, post=True)
    device = "same" if form.get("device") == "same" else "other"
    ip = http.client_ip(request, n.settings.trusted_proxies)
    previous = _order(tx)
    if previous and previous.status == "pending":
        await _cancel_quietly(n, previous.order_ref)
    mobile = qr.is_mobile(request.headers.get("user-agent", ""))
    nonce = new_id(16) if device == "same" else ""
    try:
        message = flow.message_of(tx)
        signing = sign_request.SignRequest.from_dict(tx.request.sign) if tx.request.sign \
            else None
        order = await n.bankid.auth(
            ip, personal_number=flow.identity_required(tx) or tx.step_up_from,
            sign=signing is not None, sign_data=signing.tbs_data if signing else "",
            visible_text=message.text_for(flow.page_locale(request, n, tx)) if message else "",
            markdown=bool(message and message.markdown),
            return_url=f"{n.settings.issuer}/login/{tx.tx_id}/bankid/return?"
                       f"nonce={nonce}" if nonce else "",
            web=_device_data(request, n))
    except BankIDError as exc:
        rfa = msgs.code_for_error(exc.code)
        metrics.LOGINS.labels(NAME, f"error_{msgs.metric_code(exc.code)}").inc()
        log.warning("bankid_auth_failed", error=exc.code)
        state = OrderState("", "", "", "", time.time(), device, "failed", exc.code, rfa)
    else:
        state = OrderState(order.order_ref, order.auto_start_token, order.qr_start_token,
                           order.qr_start_secret, time.time(), device, return_nonce=nonce,
                           mobile=mobile)
    tx = tx.with_order(state.to_json())
    # The page itself, not a redirect to it: one request less per login. Reloading it
    # posts the start again, which cancels this order and starts a fresh one.
    response = _page(request, n, tx, state)
    flow.keep(response, n, tx)
    return response


def _device_data(request: Request, n: Node) -> dict[str, str]:
    """The RP API's ``web`` device data: our domain, the browser's user agent (cut to
    BankID's limit) and an identifier of the browser that is not its cookie."""
    browser = flow.browser_digest(request, n)
    data = {"referringDomain": urlsplit(n.settings.issuer).hostname or "",
            "userAgent": request.headers.get("user-agent", "")[:256]}
    if browser:
        data["deviceIdentifier"] = mac(n.keys.current.subject_secret,
                                       b"bankid-device|" + browser.encode()).hex()
    return {k: v for k, v in data.items() if v}


async def returned(request: Request) -> Response:
    """GET /login/{tx}/bankid/return?nonce=…: the BankID app sends the citizen back here
    on the same device. Only the browser that started the order has its transaction
    (the sealed cookie) and only its order's nonce matches; then the login goes on as
    from the BankID page: a completed order finishes it at once."""
    n, tx, _ = await _tx(request, post=False)
    state = _order(tx)
    nonce = request.query_params.get("nonce", "")
    if state is None or not state.return_nonce or not same(nonce, state.return_nonce):
        raise PageError("err_tx_expired", status=403)
    if state.status == "pending" and state.order_ref:
        new, identity, signature = await _collect_once(n, tx, state)
        if new.status == "complete" and identity is not None:
            return await flow.complete(request, n, tx, identity, user_signature=signature)
        response = _page(request, n, tx, new)
        if new != state:
            flow.keep(response, n, tx.with_order(new.to_json()))
        return response
    return _page(request, n, tx, state)


async def show(request: Request) -> Response:
    n, tx, _ = await _tx(request, post=False)
    state = _order(tx)
    if state is None:
        return RedirectResponse(f"/login/{tx.tx_id}", status_code=303)
    return _page(request, n, tx, state)


def _page(request: Request, n: Node, tx: Transaction, state: OrderState) -> Response:
    loc = flow.page_locale(request, n, tx)
    rfa = state.rfa or msgs.code_for("pending", "outstandingTransaction",
                                     qr=state.device == "other")
    finished = state.status != "pending"
    return page("bankid.html", locale=loc, request_id=http.request_id(request),
                user_message=flow.user_message(tx, loc, _client_name(n, tx)),
                tx_id=tx.tx_id, csrf=tx.csrf, device=state.device, finished=finished,
                rfa=rfa, message=msgs.message(rfa, loc), qr_n=int(time.time()),
                autostart=qr.autostart_link(state.auto_start_token, mobile=state.mobile),
                interval_ms=int(n.settings.bankid.collect_interval_s * 1000),
                status=503 if state.status == "failed" and state.rfa == "RFA5" else 200,
                switch_url=f"/login/{tx.tx_id}/bankid?lang={'en' if loc == 'sv' else 'sv'}")


def _client_name(n: Node, tx: Transaction) -> str:
    client = n.registry.get(tx.request.client_id)
    return client.name if client else ""


async def qr_svg(request: Request) -> Response:
    n, tx, _ = await _tx(request, post=False)
    state = _order(tx)
    if state is None or state.status != "pending" or not state.qr_start_secret:
        raise PageError("err_tx_expired", status=404)
    data = qr.payload(state.qr_start_token, state.qr_start_secret,
                      qr.seconds_since(state.started, time.time()))
    loc = flow.page_locale(request, n, tx)
    return Response(qr.svg(data, title=msgs.message("SCAN_QR", loc)), media_type="image/svg+xml",
                    headers={"Cache-Control": "no-store"})


async def collect(request: Request) -> Response:
    """One /collect for this order. JSON for the script, a redirect without it.

    When the order completes, the login is finished in the same request: the answer
    carries the new session cookie and sends the citizen on to the e-service."""
    n, tx, _ = await _tx(request, post=True)
    wants_json = request.headers.get("accept", "").startswith("application/json")
    loc = flow.page_locale(request, n, tx)
    state = _order(tx)
    if state is None or not state.order_ref:
        return _answer(wants_json, tx, state, loc, next_url=f"/login/{tx.tx_id}")
    identity, signature = None, ""
    known = state
    if state.status == "pending":
        state, identity, signature = await _collect_once(n, tx, state)
        if state.status == "failed":
            await flow.audit_failure(request, n, tx, NAME, f"bankid_{state.hint or 'failed'}")
    if state.status == "complete" and identity is not None:
        done = await flow.complete(request, n, tx, identity, user_signature=signature)
        if not wants_json:
            return done
        answer = _answer(True, tx, state, loc, next_url=done.headers["location"], finish=True)
        answer.raw_headers += [(k, v) for k, v in done.raw_headers if k == b"set-cookie"]
        answer.background = done.background
        return answer
    answer = _answer(wants_json, tx, state, loc, next_url=f"/login/{tx.tx_id}/bankid")
    if state != known:
        flow.keep(answer, n, tx.with_order(state.to_json()))
    return answer


async def _collect_once(n: Node, tx: Transaction, state: OrderState
                        ) -> tuple[OrderState, Identity | None, str]:
    """One /collect: the order's new state, and on completion who it was and, for a
    signing, the signature."""
    qr_mode = state.device == "other"
    try:
        result = await n.bankid.collect(state.order_ref)
    except BankIDError as exc:
        if exc.code in ("maintenance", "unreachable", "requestTimeout"):
            # Transient: keep the order pending, show RFA5 until it answers again.
            return replace(state, rfa="RFA5"), None, ""
        return replace(state, status="failed", hint=exc.code,
                       rfa=msgs.code_for_error(exc.code)), None, ""
    rfa = msgs.code_for(result.status, result.hint_code, qr=qr_mode)
    identity = None
    status = result.status
    if status == "complete":
        identity = _identity(result.user, n.settings.loa_levels, state.order_ref)
        required = flow.identity_required(tx)
        wrong_person = bool(required and identity and identity.personal_number != required)
        if identity is None or wrong_person or (tx.request.sign and not result.signature):
            identity, rfa, status = None, "RFA22", "failed"
    if status == "failed":
        metrics.LOGINS.labels(NAME, f"failed_{msgs.metric_code(result.hint_code)}").inc()
        log.info("login", method=NAME, outcome="failed", hint=result.hint_code)
    return replace(state, status=status, hint=result.hint_code, rfa=rfa), identity, \
        result.signature if tx.request.sign else ""


def _identity(user: dict[str, str], levels: tuple[str, ...], order_ref: str) -> Identity | None:
    try:
        pnr = parse(user["personalNumber"])
    except InvalidPersonalNumber:
        log.error("bankid_bad_personal_number")
        return None
    return Proof(pnr, user["givenName"], user["surname"], NAME, level=3,
                 evidence=f"bankid:{order_ref}").identity(levels, int(time.time()))


def _answer(wants_json: bool, tx: Transaction, state: OrderState | None, loc: str, *,
            next_url: str, finish: bool = False) -> Response:
    if not wants_json:
        return RedirectResponse(next_url, status_code=303)
    status = state.status if state else "error"
    rfa = state.rfa if state and state.rfa else "RFA21"
    body = {"status": status, "hintCode": state.hint if state else "", "rfa": rfa,
            "message": msgs.message(rfa, loc)}
    if finish or status == "failed":
        body["next"] = next_url
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def cancel(request: Request) -> Response:
    n, tx, _ = await _tx(request, post=True)
    state = _order(tx)
    if state and state.order_ref and state.status == "pending":
        await _cancel_quietly(n, state.order_ref)
        metrics.LOGINS.labels(NAME, "cancelled").inc()
    response = RedirectResponse(f"/login/{tx.tx_id}", status_code=303)
    flow.keep(response, n, tx.with_order(""))
    return response


async def _cancel_quietly(n: Node, order_ref: str) -> None:
    try:
        await n.bankid.cancel(order_ref)
    except BankIDError as exc:
        log.info("bankid_cancel_failed", error=exc.code)


# The pages of this way in, under its own path (service/login/methods.py mounts them).
ROUTES = (
    Route("/login/{tx}/bankid/start", start, methods=["POST"], name="bankid_start"),
    Route("/login/{tx}/bankid", show, name="bankid_page"),
    Route("/login/{tx}/bankid/qr.svg", qr_svg, name="bankid_qr"),
    Route("/login/{tx}/bankid/collect", collect, methods=["POST"], name="bankid_collect"),
    Route("/login/{tx}/bankid/cancel", cancel, methods=["POST"], name="bankid_cancel"),
    Route("/login/{tx}/bankid/return", returned, name="bankid_return"),
)

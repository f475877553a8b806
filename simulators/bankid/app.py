"""BankID simulator: the RP API v6 contract on ``/rp/v6.0/*`` and a "phone" that plays
the citizen's BankID app on ``/phone/*``, plus ``/control/*`` for failure modes.

RP API: ``POST /rp/v6.0/auth | collect | cancel`` (JSON), errors as
``{errorCode, details}`` with the documented HTTP status.

Phone API (JSON): ``POST /phone/open {autoStartToken, personalNumber, action, delayMs}``
and ``POST /phone/scan {qr, personalNumber, action, delayMs}`` where ``action`` is
``approve`` (default), ``userCancel``, ``startFailed``, ``certificateErr`` or ``expire``.
``GET /phone`` is a page for a person: pending orders, approve as a personal number.

Control: ``POST /control/mode {mode, delayMs}`` with mode ``normal``, ``maintenance``
(503), ``internalError`` (500), ``slow`` (answers after delayMs), ``garbage`` (200 with
a body that is not JSON), ``blackhole`` (never answers within 60 s);
``POST /control/reset``; ``GET /control/stats``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import html
import ipaddress
import json
import time
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from service.personnummer import InvalidPersonalNumber, parse
from service.testpeople import name as test_name
from service.web.http import JSONResponse  # orjson: a tenth of the time of the json module
from simulators.bankid import signature
from simulators.bankid.orders import OrderBook, ScanError

# What the citizen does in the app: approve, let it expire, end it with one of the RP API
# v6 failure hint codes, or stay in one of its pending states (PENDING_HINTS).
ACTIONS = ("approve", "userCancel", "startFailed", "certificateErr", "expire",
           "userDeclinedCall", "notSupportedByUserApp", "transactionRiskBlocked",
           "userMrtd", "userCallConfirm")


@dataclass
class Mode:
    mode: str = "normal"
    delay_ms: int = 0


def _error(code: str, details: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"errorCode": code, "details": details}, status_code=status)


def _visible_data(data: dict[str, Any]) -> tuple[str, str]:
    """``userVisibleData`` as the RP API v6 takes it: base64 of UTF-8 text, 1 to 1,500
    characters; ``userVisibleDataFormat`` only ``simpleMarkdownV1``. The text, or a
    problem."""
    raw = data.get("userVisibleData")
    fmt = data.get("userVisibleDataFormat")
    if fmt is not None and fmt != "simpleMarkdownV1":
        return "", "Invalid userVisibleDataFormat"
    if raw is None:
        return "", "userVisibleDataFormat without userVisibleData" if fmt else ""
    if not isinstance(raw, str) or not 1 <= len(raw) <= 1500:
        return "", "Invalid userVisibleData"
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8"), ""
    except (binascii.Error, ValueError):
        return "", "Invalid userVisibleData"


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _device_problem(data: dict[str, Any]) -> str:
    """``returnUrl`` and the ``web`` device data as the RP API v6 takes them."""
    url = data.get("returnUrl")
    if url is not None and (not isinstance(url, str) or not url.startswith(("https://",
                                                                          "http://127.0.0.1"))
                            or len(url) > 4096):
        return "Invalid returnUrl"
    web = data.get("web")
    if web is None:
        return ""
    limits = {"referringDomain": 253, "userAgent": 256, "deviceIdentifier": 256}
    if not isinstance(web, dict) or set(web) - set(limits) or not all(
            isinstance(v, str) and 1 <= len(v) <= limits[k] for k, v in web.items()):
        return "Invalid web"
    return ""


async def _body(request: Request) -> dict[str, Any] | JSONResponse:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _error("unsupportedMediaType", "Content-Type must be application/json", 415)
    try:
        data = json.loads(await request.body())
    except ValueError:
        return _error("invalidParameters", "Invalid JSON")
    if not isinstance(data, dict):
        return _error("invalidParameters", "Expected a JSON object")
    return data


def create_app(*, order_ttl_s: float = 180.0, qr_max_age_s: float = 10.0,
               default_delay_ms: int = 0, rp_requires_tls: bool = False) -> Starlette:
    book = OrderBook(order_ttl_s=order_ttl_s, qr_max_age_s=qr_max_age_s)
    mode = Mode()
    stats = {"auth": 0, "sign": 0, "collect": 0, "cancel": 0, "phone": 0}
    keys = signature.make_keys()

    def refuse_plain(request: Request) -> Response | None:
        if rp_requires_tls and request.url.scheme != "https":
            return _error("unauthorized", "the RP API needs mutual TLS", 401)
        return None

    async def failure_mode() -> Response | None:
        if mode.mode == "maintenance":
            return _error("maintenance", "Service unavailable", 503)
        if mode.mode == "internalError":
            return _error("internalError", "Internal error", 500)
        if mode.mode == "garbage":
            return Response(b"<html>not json", status_code=200, media_type="text/html")
        if mode.mode == "slow":
            await asyncio.sleep(mode.delay_ms / 1000)
        if mode.mode == "blackhole":
            await asyncio.sleep(60)
        return None

    async def rp_request(request: Request) -> dict[str, Any] | Response:
        """What every RP API call checks first: mutual TLS, a JSON object, and the
        failure mode the control API set. The body, or the answer to send instead."""
        if (refused := refuse_plain(request)) is not None:
            return refused
        data = await _body(request)
        if isinstance(data, Response):
            return data
        if (bad := await failure_mode()) is not None:
            return bad
        return data

    async def auth(request: Request) -> Response:
        return await start_order(request, signing=False)

    async def phone_order(request: Request) -> Response:
        """``/phone/auth`` and ``/phone/sign``: an order over the telephone (RP API v6):
        the personal number and who called (``callInitiator`` ``user`` or ``RP``) are
        required; no autostart token or QR code: the citizen's app gets the order."""
        signing = request.url.path.endswith("/sign")
        stats["sign" if signing else "auth"] += 1
        data = await rp_request(request)
        if isinstance(data, Response):
            return data
        if data.get("callInitiator") not in ("user", "RP"):
            return _error("invalidParameters", "callInitiator must be user or RP")
        try:
            pnr = parse(str(data.get("personalNumber", ""))).digits
        except InvalidPersonalNumber:
            return _error("invalidParameters", "Invalid personalNumber")
        visible, problem = _visible_data(data)
        if signing and not visible:
            problem = problem or "userVisibleData is required to sign"
        if problem:
            return _error("invalidParameters", problem)
        try:
            o = book.create("127.0.0.1", pnr, time.time())
        except ValueError:
            return _error("alreadyInProgress", "Order already in progress for pno")
        o.call_initiator, o.signing, o.user_visible_data = str(data["callInitiator"]), signing, visible
        o.user_visible_b64 = str(data.get("userVisibleData") or "")
        return JSONResponse({"orderRef": o.order_ref})

    async def sign_order(request: Request) -> Response:
        return await start_order(request, signing=True)

    async def start_order(request: Request, *, signing: bool) -> Response:
        """``/auth`` and ``/sign``: the same order, ``/sign`` with the text the citizen
        signs (``userVisibleData``, required) and the data (``userNonVisibleData``)."""
        stats["sign" if signing else "auth"] += 1
        data = await rp_request(request)
        if isinstance(data, Response):
            return data
        ip = data.get("endUserIp")
        try:
            ipaddress.ip_address(str(ip))
        except ValueError:
            return _error("invalidParameters", "Invalid endUserIp")
        req = data.get("requirement") or {}
        pnr = ""
        if isinstance(req, dict) and req.get("personalNumber"):
            try:
                pnr = parse(str(req["personalNumber"])).digits
            except InvalidPersonalNumber:
                return _error("invalidParameters", "Invalid personalNumber")
        visible, problem = _visible_data(data)
        problem = problem or _device_problem(data)
        non_visible = data.get("userNonVisibleData")
        if signing and not visible:
            problem = problem or "userVisibleData is required to sign"
        if non_visible is not None and (not signing or not isinstance(non_visible, str) or not (
                1 <= len(non_visible) <= 200_000) or not _is_base64(non_visible)):
            problem = problem or "Invalid userNonVisibleData"
        if problem:
            return _error("invalidParameters", problem)
        try:
            o = book.create(str(ip), pnr, time.time())
            o.user_visible_data = visible
            o.user_visible_format = str(data.get("userVisibleDataFormat") or "")
            o.return_url = str(data.get("returnUrl") or "")
            o.web = dict(data.get("web") or {})
            o.signing = signing
            o.user_visible_b64 = str(data.get("userVisibleData") or "")
            o.user_non_visible_b64 = str(non_visible or "")
        except ValueError:
            return _error("alreadyInProgress", "Order already in progress for pno")
        book.prune(time.time())
        return JSONResponse({"orderRef": o.order_ref, "autoStartToken": o.auto_start_token,
                             "qrStartToken": o.qr_start_token,
                             "qrStartSecret": o.qr_start_secret})

    async def collect(request: Request) -> Response:
        stats["collect"] += 1
        data = await rp_request(request)
        if isinstance(data, Response):
            return data
        o = book.get(str(data.get("orderRef", "")), time.time())
        if o is None:
            return _error("invalidParameters", "No such order")
        body: dict[str, Any] = {"orderRef": o.order_ref, "status": o.status}
        if o.status != "complete":
            body["hintCode"] = o.hint
        else:
            body["completionData"] = {
                "user": {"personalNumber": o.personal_number,
                         "name": f"{o.given_name} {o.surname}",
                         "givenName": o.given_name, "surname": o.surname},
                "device": {"ipAddress": o.end_user_ip, "uhi": "OZvYM9VvyiAmG7NA5jU5zRGcSI1Ej"},
                "bankIdIssueDate": "2024-01-01",
                "stepUp": {"mrtd": False},
                "signature": signature.sign(
                    keys, visible_b64=o.user_visible_b64, non_visible_b64=o.user_non_visible_b64,
                    signing=o.signing, personal_number=o.personal_number,
                    name=f"{o.given_name} {o.surname}"),
                "ocspResponse": "c2ltdWxhdGVkIG9jc3A=",
            }
        return JSONResponse(body)

    async def cancel(request: Request) -> Response:
        stats["cancel"] += 1
        data = await rp_request(request)
        if isinstance(data, Response):
            return data
        if not book.cancel(str(data.get("orderRef", ""))):
            return _error("invalidParameters", "No such order")
        return JSONResponse({})

    def _phone_args(data: dict[str, Any]) -> tuple[str, tuple[str, str], str, float]:
        pnr = parse(str(data.get("personalNumber", ""))).digits
        given, surname = test_name(pnr)
        names = (str(data.get("givenName") or given), str(data.get("surname") or surname))
        action = str(data.get("action", "approve"))
        if action not in ACTIONS:
            raise ScanError(f"action must be one of {', '.join(ACTIONS)}")
        delay = float(data.get("delayMs", default_delay_ms)) / 1000
        return pnr, names, action, delay

    async def phone(request: Request) -> Response:
        stats["phone"] += 1
        data = await _body(request)
        if isinstance(data, Response):
            return data
        try:
            pnr, names, action, delay = _phone_args(data)
            now = time.time()
            if request.path_params["what"] == "scan":
                o = book.scan(str(data.get("qr", "")), pnr, names, action, delay, now)
            elif request.path_params["what"] == "answer":  # a phone order for this citizen
                o = book.answer_phone(pnr, names, action, delay, now)
            else:
                o = book.open_autostart(str(data.get("autoStartToken", "")), pnr, names,
                                        action, delay, now)
        except (ScanError, InvalidPersonalNumber) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        # What the app shows the citizen with the order (the RP's userVisibleData).
        return JSONResponse({"orderRef": o.order_ref, "status": o.status, "hintCode": o.hint,
                             "userVisibleData": o.user_visible_data,
                             "userVisibleDataFormat": o.user_visible_format,
                             # Where the app sends the citizen back on the same device.
                             "returnUrl": o.return_url, "web": o.web})

    async def phone_page(request: Request) -> Response:
        now = time.time()
        rows = []
        for o in sorted(book.orders.values(), key=lambda o: -o.created):
            book.advance(o, now)
            if o.status != "pending" or o.hint != "outstandingTransaction":
                continue
            rows.append(
                f"<li><form method=post action='/phone/approve'>"
                f"<input type=hidden name=token value='{html.escape(o.auto_start_token)}'>"
                f"Order started {now - o.created:.0f} s ago. "
                f"<label>Personal number <input name=pnr value='{o.required_pnr or '198112189876'}'>"
                f"</label> <button>Identify</button></form></li>")
        body = ("<!doctype html><html lang=en><meta charset=utf-8><title>BankID phone (simulator)"
                "</title><h1>BankID app (simulator)</h1><p>Orders waiting to be started:</p><ul>"
                + ("".join(rows) or "<li>none — start a BankID login first, then reload</li>")
                + "</ul>")
        return HTMLResponse(body)

    async def phone_approve(request: Request) -> Response:
        form = await request.form()
        try:
            pnr = parse(str(form.get("pnr", ""))).digits
            book.open_autostart(str(form.get("token", "")), pnr, test_name(pnr), "approve",
                                default_delay_ms / 1000, time.time())
        except (ScanError, InvalidPersonalNumber) as exc:
            return HTMLResponse(f"<p>Could not start: {html.escape(str(exc))}</p>", 400)
        return RedirectResponse("/phone", status_code=303)

    async def control_mode(request: Request) -> Response:
        data = await _body(request)
        if isinstance(data, Response):
            return data
        m = str(data.get("mode", "normal"))
        if m not in ("normal", "maintenance", "internalError", "slow", "garbage", "blackhole"):
            return JSONResponse({"error": "unknown mode"}, status_code=400)
        mode.mode, mode.delay_ms = m, int(data.get("delayMs", 0))
        return JSONResponse({"mode": mode.mode, "delayMs": mode.delay_ms})

    async def control_reset(request: Request) -> Response:
        book.orders.clear()
        book.by_auto.clear()
        book.by_qr.clear()
        mode.mode, mode.delay_ms = "normal", 0
        return JSONResponse({})

    async def control_stats(request: Request) -> Response:
        return JSONResponse({**stats, "orders": len(book.orders), "mode": mode.mode})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def method_not_allowed(request: Request) -> Response:
        return _error("methodNotAllowed", "Use POST", 405)

    rp = "/rp/v6.0"
    return Starlette(routes=[
        Route(f"{rp}/auth", auth, methods=["POST"]),
        Route(f"{rp}/sign", sign_order, methods=["POST"]),
        Route(f"{rp}/phone/auth", phone_order, methods=["POST"]),
        Route(f"{rp}/phone/sign", phone_order, methods=["POST"]),
        Route(f"{rp}/collect", collect, methods=["POST"]),
        Route(f"{rp}/cancel", cancel, methods=["POST"]),
        Route(f"{rp}/{{rest:path}}", method_not_allowed, methods=["GET", "PUT", "DELETE"]),
        Route("/phone", phone_page),
        Route("/phone/approve", phone_approve, methods=["POST"]),
        Route("/phone/{what:str}", phone, methods=["POST"]),
        Route("/control/mode", control_mode, methods=["POST"]),
        Route("/control/reset", control_reset, methods=["POST"]),
        Route("/control/stats", control_stats),
        Route("/healthz", healthz),
        # The root the citizens' signing certificates chain to: e-services verify with it.
        Route("/ca.pem", lambda request: Response(keys.ca_pem,
                                                  media_type="application/x-pem-file")),
    ])

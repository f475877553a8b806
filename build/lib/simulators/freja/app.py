"""A faithful local stand-in for the Freja eID REST API (authentication), and the phone.

RP API (mutual TLS when started with a CA), as Freja's: ``POST
/authentication/1.0/initAuthentication``, ``getOneResult``, ``cancel``. Each body is one
field, ``initAuthRequest=<base64(UTF-8 JSON)>`` (``getOneAuthResultRequest``,
``cancelAuthRequest``); both base64 alphabets, with or without padding, form-encoded or
not, are accepted, as Freja does. Errors are HTTP 400 ``{"code", "message"}``.

An approved result carries ``details``: a compact JWS (RS256, header ``x5t`` naming the
signing certificate) over the authentication's data and the attributes asked for. The
signing key is made at start-up; its certificate is at ``/jws.pem`` (phone listener) and
in ``--jws-cert-out``.

Phone (plain listener): ``POST /phone/scan`` ``{"link", "ssn", "registrationLevel"}``
binds an INFERRED authentication (the QR code) to a citizen; ``POST /phone/open``
``{"ssn", "registrationLevel"}`` opens the SSN authentication waiting on that citizen's
phone; ``POST /phone/approve`` / ``/phone/reject`` / ``/phone/cancel`` ``{"authRef"}``.
``/control/reset``, ``/control/mode`` (``normal`` | ``unavailable`` | ``garbage``),
``/control/stats``, ``/healthz``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from service import testpeople
from service.personnummer import InvalidPersonalNumber, parse
from simulators.freja.transactions import LEVELS, Book, FrejaApiError

API = "/authentication/1.0"
ATTRIBUTES = ("BASIC_USER_INFO", "SSN", "REGISTRATION_LEVEL", "EMAIL_ADDRESS", "DATE_OF_BIRTH")
LINK = "frejaeid://bindUserToTransaction?transactionReference="


@dataclass(frozen=True)
class SigningKey:
    key: RSAKey
    cert_pem: bytes
    x5t: str


def make_signing_key() -> SigningKey:
    """Freja's result-signing key and a self-signed certificate for it (RSA-2048)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idportal Freja simulator"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Freja eID simulator signing")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(private.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365)).sign(private, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    x5t = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()  # noqa: S324 - x5t is SHA-1 by definition (RFC 7515)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return SigningKey(RSAKey.import_key(pem), cert.public_bytes(serialization.Encoding.PEM), x5t)


def _b64json(value: str) -> Any:
    """Either base64 alphabet, padded or not."""
    value = value.strip().replace("-", "+").replace("_", "/")
    raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    return json.loads(raw.decode("utf-8"))


async def _field(request: Request, name: str) -> dict[str, Any]:
    body = (await request.body())[:65536].decode("utf-8", "replace")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        value = (parse_qs(body).get(name) or [""])[0]
    else:
        key, _, value = body.partition("=")
        if key.strip() != name:
            value = ""
    if not value:
        raise FrejaApiError(1001, f"Missing {name}.")
    try:
        data = _b64json(value)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise FrejaApiError(1001, f"{name} is not base64-encoded JSON.") from None
    if not isinstance(data, dict):
        raise FrejaApiError(1001, f"{name} is not a JSON object.")
    return data


def _person(ssn: str) -> tuple[str, str]:
    return testpeople.name(ssn)


def create_app(*, rp_requires_tls: bool = False) -> Starlette:
    book = Book()
    signing = make_signing_key()
    stats = {"init": 0, "result": 0, "cancel": 0}
    mode = {"mode": "normal"}

    def refuse(request: Request) -> Response | None:
        if rp_requires_tls and request.url.scheme != "https":
            return JSONResponse({"code": 1002, "message": "Mutual TLS required."}, 401)
        if mode["mode"] == "unavailable":
            return JSONResponse({"code": 5000, "message": "Service unavailable."}, 503)
        if mode["mode"] == "garbage":
            return Response(b"<html>not json", media_type="text/html")
        return None

    def error(exc: FrejaApiError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=400)

    async def init(request: Request) -> Response:
        stats["init"] += 1
        if (refused := refuse(request)) is not None:
            return refused
        try:
            data = await _field(request, "initAuthRequest")
            kind = data.get("userInfoType")
            info = data.get("userInfo")
            level = data.get("minRegistrationLevel", "BASIC")
            asked = data.get("attributesToReturn") or []
            if kind not in ("SSN", "INFERRED", "EMAIL", "PHONE") or not isinstance(info, str):
                raise FrejaApiError(1001, "Invalid or missing userInfoType.")
            if level not in LEVELS:
                raise FrejaApiError(1003, "Invalid minimum registration level.")
            if not isinstance(asked, list) or any(
                    not isinstance(a, dict) or a.get("attribute") not in ATTRIBUTES for a in asked):
                raise FrejaApiError(1004, "Invalid attributesToReturn.")
            ssn = ""
            if kind == "SSN":
                if level == "BASIC":
                    raise FrejaApiError(1003, "SSN requires EXTENDED or PLUS registration level.")
                try:
                    user = _b64json(info)
                    ssn = parse(str(user["ssn"])).digits
                except (binascii.Error, ValueError, KeyError, TypeError, InvalidPersonalNumber):
                    raise FrejaApiError(1002, "Invalid or missing userInfo.") from None
                if user.get("country") != "SE":
                    raise FrejaApiError(1002, "Invalid or missing userInfo.")
            elif kind == "INFERRED" and info != "N/A":
                raise FrejaApiError(1002, "userInfo must be N/A for INFERRED.")
            elif kind in ("EMAIL", "PHONE"):
                raise FrejaApiError(1002, "The simulator knows citizens by SSN only.")
            auth = book.start(kind, info, ssn, level,
                              tuple(a["attribute"] for a in asked), time.time())
        except FrejaApiError as exc:
            return error(exc)
        return JSONResponse({"authRef": auth.auth_ref})

    def details(auth_ref: str) -> str:
        auth = book.auths[auth_ref]
        attributes: dict[str, Any] = {}
        if "BASIC_USER_INFO" in auth.attributes:
            attributes["basicUserInfo"] = {"name": auth.given_name, "surname": auth.surname}
        if "SSN" in auth.attributes:
            attributes["ssn"] = {"ssn": auth.ssn, "country": "SE"}
        if "REGISTRATION_LEVEL" in auth.attributes:
            attributes["registrationLevel"] = auth.level
        if "DATE_OF_BIRTH" in auth.attributes:
            attributes["dateOfBirth"] = parse(auth.ssn).birthdate.isoformat()
        payload = {"authRef": auth.auth_ref, "status": auth.status,
                   "userInfoType": auth.user_info_type, "userInfo": auth.user_info,
                   "minRegistrationLevel": auth.min_level, "requestedAttributes": attributes,
                   "timestamp": int(auth.finished * 1000)}
        return jws.serialize_compact({"alg": "RS256", "x5t": signing.x5t},
                                     json.dumps(payload).encode(), signing.key)

    async def get_one_result(request: Request) -> Response:
        stats["result"] += 1
        if (refused := refuse(request)) is not None:
            return refused
        try:
            data = await _field(request, "getOneAuthResultRequest")
            auth = book.get(str(data.get("authRef", "")), time.time())
        except FrejaApiError as exc:
            return error(exc)
        body: dict[str, Any] = {"authRef": auth.auth_ref, "status": auth.status}
        if auth.status == "APPROVED":
            body["details"] = details(auth.auth_ref)
        return JSONResponse(body)

    async def cancel(request: Request) -> Response:
        stats["cancel"] += 1
        if (refused := refuse(request)) is not None:
            return refused
        try:
            data = await _field(request, "cancelAuthRequest")
            book.rp_cancel(str(data.get("authRef", "")), time.time())
        except FrejaApiError as exc:
            return error(exc)
        return JSONResponse({})

    async def phone_json(request: Request) -> dict[str, Any]:
        try:
            data = json.loads(await request.body())
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise FrejaApiError(1001, "expected a JSON object")
        return data

    def citizen(data: dict[str, Any]) -> tuple[str, str]:
        try:
            ssn = parse(str(data.get("ssn", ""))).digits
        except InvalidPersonalNumber as exc:
            raise FrejaApiError(1002, str(exc)) from None
        level = str(data.get("registrationLevel") or "PLUS")
        if level not in LEVELS:
            raise FrejaApiError(1003, "unknown registration level")
        return ssn, level

    async def phone(request: Request) -> Response:
        what = request.path_params["what"]
        try:
            data = await phone_json(request)
            now = time.time()
            if what == "scan":
                link = str(data.get("link", ""))
                if not link.startswith(LINK):
                    raise FrejaApiError(1100, "not a Freja eID link")
                ref = dict(parse_qsl(urlsplit(link).query)).get("transactionReference", "")
                ssn, level = citizen(data)
                auth = book.get(ref, now)
                book.deliver(auth, ssn, level, _person(ssn), now)
            elif what == "open":
                ssn, level = citizen(data)
                waiting = book.waiting_for(ssn, now)
                if waiting is None:
                    raise FrejaApiError(1100, "nothing waiting on this phone")
                auth = waiting
                book.deliver(auth, ssn, level, _person(ssn), now)
            elif what in ("approve", "reject"):
                auth = book.answer(str(data.get("authRef", "")), what == "approve", now)
            elif what == "cancel":
                auth = book.get(str(data.get("authRef", "")), now)
                if not auth.active:
                    raise FrejaApiError(*INVALID_REFERENCE_PHONE)
                auth._end("CANCELED", now)
            else:
                return JSONResponse({"message": "unknown phone action"}, status_code=404)
        except FrejaApiError as exc:
            return JSONResponse({"code": exc.code, "message": exc.message}, status_code=409)
        return JSONResponse({"authRef": auth.auth_ref, "status": auth.status})

    async def phone_page(request: Request) -> Response:
        now = time.time()
        rows = []
        for auth in list(book.auths.values()):
            auth.expire(now)
            if auth.active:
                rows.append(f"<li><code>{auth.auth_ref[:12]}…</code> {auth.user_info_type} "
                            f"{auth.status} (min {auth.min_level})</li>")
        return HTMLResponse("<!doctype html><html lang=en><meta charset=utf-8><title>Freja eID "
                            "phone (simulator)</title><h1>Freja eID app (simulator)</h1><ul>"
                            + ("".join(rows) or "<li>none</li>") + "</ul>")

    async def control_reset(request: Request) -> Response:
        book.auths.clear()
        mode["mode"] = "normal"
        return JSONResponse({})

    async def control_mode(request: Request) -> Response:
        try:
            data = await phone_json(request)
        except FrejaApiError:
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        if data.get("mode") not in ("normal", "unavailable", "garbage"):
            return JSONResponse({"error": "unknown mode"}, status_code=400)
        mode["mode"] = str(data["mode"])
        return JSONResponse(mode)

    async def control_stats(request: Request) -> Response:
        return JSONResponse({**stats, "authentications": len(book.auths), **mode})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def jws_pem(request: Request) -> Response:
        return Response(signing.cert_pem, media_type="application/x-pem-file")

    app = Starlette(routes=[
        Route(f"{API}/initAuthentication", init, methods=["POST"]),
        Route(f"{API}/getOneResult", get_one_result, methods=["POST"]),
        Route(f"{API}/cancel", cancel, methods=["POST"]),
        Route("/phone", phone_page),
        Route("/phone/{what:str}", phone, methods=["POST"]),
        Route("/control/reset", control_reset, methods=["POST"]),
        Route("/control/mode", control_mode, methods=["POST"]),
        Route("/control/stats", control_stats),
        Route("/healthz", healthz),
        Route("/jws.pem", jws_pem),
    ])
    app.state.signing = signing
    return app


INVALID_REFERENCE_PHONE = (1100, "This authentication is no longer active.")

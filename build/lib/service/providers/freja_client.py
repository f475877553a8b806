"""Client of the Freja eID REST API, authentication (``initAuthentication``,
``getOneResult``, ``cancel``).

Mutual TLS when the base URL is https: the RP presents its client certificate and pins
Freja's server CA. Each request body is one field, ``<name>=<base64(UTF-8 JSON)>``.
An approved result's ``details`` is a JWS that Freja signs: it is verified against the
configured certificate (its ``x5t`` must name that certificate) and must be about the
same ``authRef``; only then is anyone's identity taken from it. Garbage, a slow or an
absent server give ``FrejaError``, never an unhandled exception.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from service.errors import FrejaError
from service.settings import FrejaSettings

STATUSES = ("STARTED", "DELIVERED_TO_MOBILE", "APPROVED", "REJECTED", "CANCELED",
            "RP_CANCELED", "EXPIRED")
ATTRIBUTES = ("BASIC_USER_INFO", "SSN", "REGISTRATION_LEVEL")
LINK = "frejaeid://bindUserToTransaction?transactionReference="


@dataclass(frozen=True, slots=True)
class Approved:
    """Who approved, from the signed details."""

    ssn: str
    given_name: str
    surname: str
    registration_level: str  # BASIC | EXTENDED | PLUS


@dataclass(frozen=True, slots=True)
class Result:
    status: str  # one of STATUSES
    approved: Approved | None = None


def _b64(data: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


@dataclass(frozen=True)
class ResultKey:
    """Freja's result-signing certificate: its key and its ``x5t``."""

    key: RSAKey
    x5t: str

    @classmethod
    def load(cls, pem: bytes) -> ResultKey:
        cert = x509.load_pem_x509_certificate(pem)
        der = cert.public_bytes(serialization.Encoding.DER)
        x5t = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()  # noqa: S324 - x5t is SHA-1 by definition
        public = cert.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        return cls(RSAKey.import_key(public), x5t)


def verify_details(details: Any, auth_ref: str, key: ResultKey) -> Approved:
    """The approved citizen from ``details`` (pure): signed by Freja's key, about
    ``auth_ref``, APPROVED, with the SSN and names; else ``FrejaError``."""
    if not isinstance(details, str) or len(details) > 20_000:
        raise FrejaError("badResponse", "details missing")
    try:
        token = jws.deserialize_compact(details, key.key, algorithms=["RS256"])
    except (JoseError, ValueError) as exc:
        raise FrejaError("badSignature", type(exc).__name__) from None
    if token.protected.get("x5t") != key.x5t:
        raise FrejaError("badSignature", "signed by another certificate")
    try:
        payload = json.loads(token.payload)
        attrs = payload["requestedAttributes"]
        ssn = attrs["ssn"]
        basic = attrs["basicUserInfo"]
        approved = Approved(ssn=str(ssn["ssn"]), given_name=str(basic["name"])[:100],
                            surname=str(basic["surname"])[:100],
                            registration_level=str(attrs.get("registrationLevel", "")))
        same = payload["authRef"] == auth_ref and payload["status"] == "APPROVED"
    except (ValueError, KeyError, TypeError):
        raise FrejaError("badResponse", "details without the citizen") from None
    if not same or ssn.get("country") != "SE":
        raise FrejaError("badResponse", "details of another authentication")
    return approved


def parse_result(data: Any, auth_ref: str, key: ResultKey) -> Result:
    """A ``getOneResult`` answer, checked (pure)."""
    status = data.get("status") if isinstance(data, dict) else None
    if status not in STATUSES or data.get("authRef") != auth_ref:
        raise FrejaError("badResponse", "unknown status or another reference")
    if status == "APPROVED":
        return Result(status, verify_details(data.get("details"), auth_ref, key))
    return Result(status)


class FrejaClient:
    def __init__(self, cfg: FrejaSettings) -> None:
        self.cfg = cfg
        self.base = cfg.base_url.rstrip("/") + "/authentication/1.0/"
        self._ssl: ssl.SSLContext | bool = False
        if cfg.base_url.startswith("https://"):
            ctx = ssl.create_default_context(cafile=cfg.ca_file or None)
            if cfg.client_cert:
                ctx.load_cert_chain(cfg.client_cert, cfg.client_key or None)
            self._ssl = ctx
        self._key: ResultKey | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def result_key(self) -> ResultKey:
        if self._key is None:
            self._key = ResultKey.load(Path(self.cfg.jws_cert_file).read_bytes())
        return self._key

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl, limit=100, keepalive_timeout=30),
                timeout=aiohttp.ClientTimeout(total=self.cfg.timeout_s),
                cookie_jar=aiohttp.DummyCookieJar(), skip_auto_headers=("User-Agent",))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _post(self, path: str, name: str, body: dict[str, Any]) -> Any:
        try:
            async with self._http().post(
                    self.base + path, data={name: _b64(body)}) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise FrejaError("unreachable", type(exc).__name__) from exc
        try:
            data = json.loads(raw) if len(raw) < 65536 else None
        except ValueError:
            data = None
        if status != 200:
            code = data.get("code") if isinstance(data, dict) else None
            raise FrejaError(str(code) if isinstance(code, int) else f"http{status}")
        if not isinstance(data, dict):
            raise FrejaError("badResponse", "not a JSON object")
        return data

    async def start(self, *, ssn: str = "", min_level: str = "PLUS") -> str:
        """A new authentication: of the citizen ``ssn`` (pushed to their phone), else
        whoever scans its QR code; the citizen must be registered at ``min_level``."""
        body: dict[str, Any] = {
            "userInfoType": "SSN" if ssn else "INFERRED",
            "userInfo": _b64({"country": "SE", "ssn": ssn}) if ssn else "N/A",
            "minRegistrationLevel": min_level,
            "attributesToReturn": [{"attribute": a} for a in ATTRIBUTES]}
        ref = (await self._post("initAuthentication", "initAuthRequest", body)).get("authRef")
        if not isinstance(ref, str) or not 8 <= len(ref) <= 200:
            raise FrejaError("badResponse", "authRef missing")
        return ref

    async def result(self, auth_ref: str) -> Result:
        data = await self._post("getOneResult", "getOneAuthResultRequest", {"authRef": auth_ref})
        return parse_result(data, auth_ref, self.result_key)

    async def cancel(self, auth_ref: str) -> None:
        await self._post("cancel", "cancelAuthRequest", {"authRef": auth_ref})


def app_link(auth_ref: str) -> str:
    """The link the Freja eID app opens (and the QR code's content)."""
    return LINK + quote(auth_ref, safe="")

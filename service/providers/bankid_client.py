"""Client of the BankID Relying Party API v6 (``/auth``, ``/collect``, ``/cancel``).

Mutual TLS when the base URL is https: the RP presents its client certificate and
pins the BankID server CA. Answers are checked for shape: a server that answers
garbage, slowly or not at all gives ``BankIDError`` — never an unhandled exception.
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from typing import Any

import orjson

from service.errors import BankIDError
from service.providers.json_post import BadAnswer, JsonPoster
from service.settings import BankIDSettings


@dataclass(frozen=True, slots=True)
class Order:
    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str


@dataclass(frozen=True, slots=True)
class Collected:
    status: str  # pending | failed | complete
    hint_code: str
    user: dict[str, str]
    signature: str = ""  # completionData.signature (base64 XML), on complete


def _str(data: Any, key: str, *, limit: int = 200) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise BankIDError("badResponse", f"field {key} missing or malformed")
    return value


class BankIDClient:
    """Over ``json_post`` (kept-alive connections, httptools): /collect polling and the
    two calls of every login cost the node little (BENCHMARKS.md)."""

    def __init__(self, cfg: BankIDSettings) -> None:
        self.cfg = cfg
        ctx: ssl.SSLContext | None = None
        if cfg.base_url.startswith("https://"):
            ctx = ssl.create_default_context(cafile=cfg.ca_file or None)
            if cfg.client_cert:
                ctx.load_cert_chain(cfg.client_cert, cfg.client_key or None)
        self._poster = JsonPoster(cfg.base_url, ssl_context=ctx, timeout_s=cfg.timeout_s,
                                  limit=200)

    async def close(self) -> None:
        await self._poster.close()

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            answer = await self._poster.post(path, orjson.dumps(body))
        except BadAnswer as exc:  # garbage, not an outage: the order is not kept pending
            raise BankIDError("badResponse", str(exc)) from exc
        except (TimeoutError, OSError) as exc:
            raise BankIDError("unreachable", type(exc).__name__) from exc
        try:
            data = orjson.loads(answer.body)
        except orjson.JSONDecodeError:
            data = None
        if answer.status != 200:
            code = data.get("errorCode") if isinstance(data, dict) else None
            raise BankIDError(code if isinstance(code, str) and len(code) < 50
                              else f"http{answer.status}")
        if not isinstance(data, dict):
            raise BankIDError("badResponse", "not a JSON object")
        return data

    async def auth(self, end_user_ip: str, *, personal_number: str = "",
                   visible_text: str = "", markdown: bool = False, return_url: str = "",
                   web: dict[str, str] | None = None, sign_data: str = "",
                   sign: bool = False) -> Order:
        """Start an order; ``visible_text`` is shown in the app (``markdown``: as
        BankID's simpleMarkdownV1); ``return_url``: where the app sends the citizen back
        on the same device; ``web``: the browser's device data (referringDomain,
        userAgent, deviceIdentifier), which BankID's risk assessment uses. ``sign``: a
        /sign order, the citizen signing ``visible_text`` and ``sign_data`` (base64, the
        data to be signed, not shown)."""
        body: dict[str, Any] = {"endUserIp": end_user_ip}
        if return_url:
            body["returnUrl"] = return_url
        if web:
            body["web"] = web
        if personal_number:
            body["requirement"] = {"personalNumber": personal_number}
        if visible_text:
            body["userVisibleData"] = base64.b64encode(visible_text.encode()).decode()
            if markdown:
                body["userVisibleDataFormat"] = "simpleMarkdownV1"
        if sign_data:
            body["userNonVisibleData"] = sign_data
        return parse_order(await self._post("sign" if sign else "auth", body))

    async def phone_auth(self, personal_number: str, *, call_initiator: str = "RP",
                         visible_text: str = "") -> str:
        """An authentication over the telephone (``/phone/auth``): the support desk
        (``callInitiator`` RP) asks the caller to confirm who they are in their app. The
        order's reference; collect it like any other."""
        body: dict[str, Any] = {"personalNumber": personal_number,
                                "callInitiator": call_initiator}
        if visible_text:
            body["userVisibleData"] = base64.b64encode(visible_text.encode()).decode()
        return _str(await self._post("phone/auth", body), "orderRef")

    async def collect(self, order_ref: str) -> Collected:
        return parse_collect(await self._post("collect", {"orderRef": order_ref}))

    async def cancel(self, order_ref: str) -> None:
        await self._post("cancel", {"orderRef": order_ref})


def parse_order(data: Any) -> Order:
    """The ``/auth`` answer, checked for shape (pure)."""
    return Order(order_ref=_str(data, "orderRef"), auto_start_token=_str(data, "autoStartToken"),
                 qr_start_token=_str(data, "qrStartToken"),
                 qr_start_secret=_str(data, "qrStartSecret"))


def parse_collect(data: Any) -> Collected:
    """The ``/collect`` answer, checked for shape (pure); garbage is ``BankIDError``."""
    status = _str(data, "status")
    if status not in ("pending", "failed", "complete"):
        raise BankIDError("badResponse", "unknown status")
    hint = data.get("hintCode", "")
    hint = hint if isinstance(hint, str) and len(hint) < 64 else ""
    user: dict[str, str] = {}
    if status == "complete":
        completion = data.get("completionData")
        raw_user = completion.get("user") if isinstance(completion, dict) else None
        if not isinstance(raw_user, dict):
            raise BankIDError("badResponse", "completionData.user missing")
        user = {k: _str(raw_user, k) for k in ("personalNumber", "givenName", "surname")}
        signature = _str(completion, "signature", limit=200_000)
        return Collected(status=status, hint_code=hint, user=user, signature=signature)
    return Collected(status=status, hint_code=hint, user=user)

"""The oidc.se Signature Extension 1.1: an e-service asks the citizen to sign. Pure.

``https://id.oidc.se/param/signRequest`` is ``{"tbs_data": base64, "sign_message":
<userMessage shape>}``, inside a signed request object or as a JWT of its own signed
with the client's registered key (``iss`` the client, ``aud`` this provider). The scope
``https://id.oidc.se/scope/sign`` needs ``tbs_data``; ``…/scope/signApproval`` takes
none. The message is what BankID shows (``userVisibleData``); the data to be signed is
its ``userNonVisibleData``; the result is the ID token's ``userSignature`` claim.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from service.oidc import extensions, request_objects
from service.oidc.clients import Client

PARAM = "https://id.oidc.se/param/signRequest"
SCOPE_SIGN = "https://id.oidc.se/scope/sign"
SCOPE_APPROVAL = "https://id.oidc.se/scope/signApproval"
CLAIM = "https://id.oidc.se/claim/userSignature"
# The data to be signed travels in the sealed login transaction (one cookie): a digest
# of the document, as e-services sign, fits many times over.
MAX_TBS_BYTES = 512


class SignRequestError(ValueError):
    """What is wrong with a sign request (an ``invalid_request`` description)."""


@dataclass(frozen=True)
class SignRequest:
    tbs_data: str  # base64, as the e-service sent it ("" for a signApproval)
    message: extensions.UserMessage

    def to_dict(self) -> dict[str, Any]:
        return {"tbs": self.tbs_data, "message": self.message.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignRequest:
        message = data.get("message")
        return cls(str(data.get("tbs", "")), extensions.UserMessage.from_dict(
            message if isinstance(message, dict) else {}))


def parse(raw: str, client: Client, *, scope: str, audiences: set[str], now: int,
          skew: int) -> SignRequest:
    """The sign request of an authorization request whose signing ``scope`` is ``sign``
    or ``signApproval``; ``SignRequestError`` with what is wrong."""
    value: Any
    if raw.count(".") == 2 and not raw.lstrip().startswith("{"):
        try:  # a JWT of its own, signed by the e-service
            value = request_objects.parameters(raw, client, audiences=audiences, now=now,
                                               skew=skew)
        except request_objects.RequestObjectError as exc:
            raise SignRequestError(f"signRequest: {exc}".replace("request object",
                                                                 "JWT")) from None
        value = {k: _json(v) for k, v in value.items()}
    else:
        try:
            value = extensions.json_object(raw, "signRequest")
        except extensions.ExtensionError as exc:
            raise SignRequestError(f"{exc} or a signed JWT") from None
    tbs = value.get("tbs_data", "")
    if scope == SCOPE_SIGN:
        if not isinstance(tbs, str) or not tbs:
            raise SignRequestError("signRequest.tbs_data is required with the sign scope")
        try:
            decoded = base64.b64decode(tbs, validate=True)
        except (binascii.Error, ValueError):
            raise SignRequestError("signRequest.tbs_data must be base64") from None
        if not decoded or len(decoded) > MAX_TBS_BYTES:
            raise SignRequestError(f"signRequest.tbs_data must be 1 to {MAX_TBS_BYTES} bytes "
                                   "(sign a digest of the document)")
    elif tbs:
        raise SignRequestError("signRequest.tbs_data is not taken with signApproval")
    message = value.get("sign_message")
    if not isinstance(message, dict):
        raise SignRequestError("signRequest.sign_message is required: BankID shows it "
                               "when the citizen signs")
    try:
        parsed = extensions.user_message(json.dumps(message))
    except extensions.ExtensionError as exc:
        raise SignRequestError(str(exc).replace("userMessage", "signRequest.sign_message")
                               ) from None
    return SignRequest(tbs if isinstance(tbs, str) else "", parsed)


def _json(value: str) -> Any:
    """A parameter read back from its string form (objects were JSON)."""
    try:
        return json.loads(value) if value[:1] in "{[" else value
    except ValueError:
        return value

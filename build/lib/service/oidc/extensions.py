"""The oidc.se Authentication Request Parameter Extensions 1.1: ``userMessage`` (a
message from the e-service to show the citizen while logging in, and in the BankID app)
and ``authnProvider`` (which way in the e-service wants). Pure: no I/O.

``userMessage`` is a JSON object: ``message`` or ``message#<lang>`` (base64 of UTF-8
text) and ``mime_type``, ``text/plain`` (the default) or ``text/markdown``; any other
MIME type is refused. A message is at most ``MAX_MESSAGE_BYTES``: BankID takes
``userVisibleData`` up to 1,500 characters of base64.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

USER_MESSAGE = "https://id.oidc.se/param/userMessage"
AUTHN_PROVIDER = "https://id.oidc.se/param/authnProvider"
AUTHN_PROVIDER_CLAIM = "https://id.oidc.se/claim/authnProvider"
MIME_TYPES = ("text/plain", "text/markdown")
MAX_MESSAGE_BYTES = 1_125  # base64 of it: 1,500 characters, BankID's limit
BANKID = "https://www.bankid.com"  # the provider URI of BankID


class ExtensionError(ValueError):
    """What is wrong with an extension parameter (an ``invalid_request`` description)."""


@dataclass(frozen=True)
class UserMessage:
    texts: dict[str, str]  # language ("" for the one without) → text
    mime_type: str = "text/plain"

    @property
    def markdown(self) -> bool:
        return self.mime_type == "text/markdown"

    def text_for(self, locale: str) -> str:
        """The message in ``locale``, else the one without a language, else any."""
        return self.texts.get(locale) or self.texts.get("") or next(iter(self.texts.values()))

    def to_dict(self) -> dict[str, object]:
        return {"texts": self.texts, "mime_type": self.mime_type}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> UserMessage:
        texts = data.get("texts")
        return cls({str(k): str(v) for k, v in texts.items()} if isinstance(texts, dict)
                   else {}, str(data.get("mime_type", "text/plain")))


def json_object(raw: str, what: str) -> dict[str, Any]:
    """A parameter that must be a JSON object, or ``ExtensionError`` naming it."""
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ExtensionError(f"{what} must be a JSON object")
    return value


def user_message(raw: str) -> UserMessage:
    """The ``userMessage`` parameter, or ``ExtensionError`` saying what is wrong."""
    value = json_object(raw, "userMessage")
    mime = value.get("mime_type", "text/plain")
    if mime not in MIME_TYPES:
        raise ExtensionError(f"userMessage mime_type {str(mime)[:40]!r} is not supported "
                             f"({' or '.join(MIME_TYPES)})")
    texts: dict[str, str] = {}
    for key, encoded in value.items():
        if key == "mime_type":
            continue
        name, _, lang = key.partition("#")
        if name != "message" or not isinstance(encoded, str) or (lang and not (
                2 <= len(lang) <= 8 and lang.replace("-", "").isalpha())):
            raise ExtensionError(f"userMessage: unknown member {key[:40]!r}")
        try:
            text = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ExtensionError(f"userMessage {key!r} must be base64 of UTF-8 text") from None
        if not text.strip() or len(text.encode()) > MAX_MESSAGE_BYTES:
            raise ExtensionError(f"userMessage {key!r} must be 1 to {MAX_MESSAGE_BYTES} "
                                 "bytes of text")
        texts[lang.split("-")[0].lower()] = text
    if not texts:
        raise ExtensionError("userMessage has no message")
    return UserMessage(texts, str(mime))


def provider_uri(method: str, issuer: str) -> str:
    """The ``authnProvider`` of a way in: BankID's own URI, ours for the rest."""
    return BANKID if method == "bankid" else f"{issuer}/authn/{method}"


def method_of(provider: str, issuer: str, methods: tuple[str, ...]) -> str:
    """The way in ``provider`` names among ``methods`` ('' when none: then the citizen
    chooses, as without the parameter)."""
    return next((m for m in methods if provider_uri(m, issuer) == provider), "")

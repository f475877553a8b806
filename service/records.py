"""The records kept in the session store, as plain frozen dataclasses with JSON forms.

Pure data: no I/O. The store modules decide where and how long each one lives.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Self

import orjson

# Short names in the stored JSON: every SSO session must fit in 1 KB of Redis memory.
_SHORT = {"personal_number": "p", "given_name": "g", "family_name": "f", "method": "m",
          "acr": "a", "auth_time": "t", "birthdate": "b", "coordination_number": "c",
          "sid": "s", "identity": "i", "created": "cr", "absolute_expiry": "ax",
          "clients": "cl", "grants": "gr", "client_id": "ci", "redirect_uri": "ru",
          "code_challenge": "cc", "scope": "sc", "nonce": "n", "grant_id": "gi",
          "claims": "cm", "expires_at": "ea", "state": "st", "prompt": "pr", "max_age": "ma",
          "acr_values": "av", "login_hint": "lh", "ui_locales": "ul", "response_mode": "rm",
          "user_message": "um", "authn_provider": "ap", "sign": "sg",
          "user_signature": "us", "org": "o", "contexts": "cx", "employee_id": "e",
          "evidence": "ev", "device": "dv"}


# Per record class, worked out once: (field name, stored name, default or a factory).
_Plan = tuple[tuple[str, str, Any], ...]
_PLANS: dict[type, _Plan] = {}
_NO_DEFAULT = object()


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = tuple(
            (f.name, _SHORT.get(f.name, f.name),
             f.default if f.default is not dataclasses.MISSING
             else f.default_factory() if f.default_factory is not dataclasses.MISSING
             else _NO_DEFAULT)
            for f in dataclasses.fields(cls))
    return plan


def _compact(value: Any) -> Any:
    if isinstance(value, _Json):
        out = {}
        for name, short, default in _plan(type(value)):
            v = getattr(value, name)
            if v is default or (default is not _NO_DEFAULT and v == default):
                continue  # defaults are not stored
            out[short] = _compact(v)
        return out
    if isinstance(value, tuple | list):
        return [_compact(v) for v in value]
    return value


class _Json:
    def to_json(self) -> str:
        return orjson.dumps(_compact(self)).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        data = orjson.loads(text)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        kwargs: dict[str, Any] = {}
        for name, short, _ in _plan(cls):
            value = data.get(short, _NO_DEFAULT)
            if value is _NO_DEFAULT:
                value = data.get(name, _NO_DEFAULT)  # written by a release before the short names
                if value is _NO_DEFAULT:
                    continue
            if name == "identity" and isinstance(value, dict):
                value = Identity.from_dict(value)
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[name] = value
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class Identity(_Json):
    """Who proved who they are, how, and when."""

    personal_number: str
    given_name: str
    family_name: str
    method: str  # one of loa.METHODS
    acr: str
    auth_time: int
    birthdate: str = ""
    coordination_number: bool = False
    # A staff card's employee id (smart card only).
    employee_id: str = ""
    # What the method saw (``login.methods.Proof``): the BankID or Freja order, the
    # card's issuer, serial and fingerprint; for the audit trail and the support desk.
    evidence: str = ""

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True, slots=True)
class AuthRequest(_Json):
    """A validated authorization request (OIDC Core §3.1.2.1)."""

    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    code_challenge: str
    state: str = ""
    nonce: str = ""
    prompt: tuple[str, ...] = ()
    max_age: int | None = None
    acr_values: tuple[str, ...] = ()
    login_hint: str = ""
    ui_locales: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict)
    response_mode: str = "query"
    # Only for /authorize's SSO decision; never carried into the login transaction.
    id_token_hint: str = ""
    # oidc.se extensions: the e-service's message (``extensions.UserMessage.to_dict``)
    # and the way in it asked for.
    user_message: dict[str, Any] = field(default_factory=dict)
    authn_provider: str = ""
    # oidc.se Signature Extension: what the citizen is asked to sign
    # (``sign_request.SignRequest.to_dict``).
    sign: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CodeGrant(_Json):
    """What an authorization code stands for, until it is redeemed."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: tuple[str, ...]
    nonce: str
    sid: str
    grant_id: str
    identity: Identity
    acr: str
    claims: dict[str, Any] = field(default_factory=dict)
    # The citizen's signature when the login was a signing (only in this code's ID token).
    user_signature: str = ""
    # The organisation the citizen acts for here ({"number", "name"}); empty: themself.
    org: dict[str, str] = field(default_factory=dict)

    def grant(self, expires_at: int) -> Grant:
        """The grant this code names, once redeemed: its family lives until ``expires_at``."""
        return Grant(grant_id=self.grant_id, client_id=self.client_id, scope=self.scope,
                     sid=self.sid, identity=self.identity, acr=self.acr, expires_at=expires_at,
                     claims=self.claims, org=self.org)


@dataclass(frozen=True, slots=True)
class Grant(_Json):
    """An issued grant: what the refresh-token family and its access tokens stand for."""

    grant_id: str
    client_id: str
    scope: tuple[str, ...]
    sid: str
    identity: Identity
    acr: str
    expires_at: int
    claims: dict[str, Any] = field(default_factory=dict)
    org: dict[str, str] = field(default_factory=dict)  # see CodeGrant.org


@dataclass(frozen=True, slots=True)
class Session(_Json):
    """An SSO session. ``sid`` is public (logout tokens); the cookie value is secret."""

    sid: str
    identity: Identity
    created: int
    absolute_expiry: int
    clients: tuple[str, ...] = ()
    grants: tuple[str, ...] = ()
    # The context chosen per e-service with organisation context: client id → "self" or
    # an organisation number.
    contexts: dict[str, str] = field(default_factory=dict)
    # The browser and system the session began in (``web.devices.kind``): the citizen's
    # own page names the device.
    device: str = ""


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One citizen of a PIN register file (``providers.pin_register``) on its way into
    the store (``store.pin_records``)."""

    personal_number: str
    given_name: str
    family_name: str
    pin_hash: str

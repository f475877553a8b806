"""Validation of an authorization request (OIDC Core §3.1.2.1, RFC 6749 §4.1.1,
RFC 7636, RFC 9700): an ordered tuple of small named checks.

The first checks establish the client and redirect URI; until they pass, an error
never redirects (RFC 6749 §4.1.2.1: no open redirector). Each check reads the raw
parameters and the draft it builds; all are pure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service import loa
from service.errors import AuthorizeError
from service.oidc import extensions, pkce, request_objects, sign_request
from service.oidc.clients import Client, Registry
from service.records import AuthRequest

MAX_VALUE = 2048
# A userMessage holds a message per language, each up to BankID's 1,500 characters.
LONGER = {extensions.USER_MESSAGE: 4 * 1_600, sign_request.PARAM: 8_192}
SINGLE = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "prompt",
          "max_age", "acr_values", "login_hint", "ui_locales", "code_challenge",
          "code_challenge_method", "response_mode", "claims", "request", "request_uri",
          "id_token_hint", "display")
PROMPTS = {"none", "login", "consent", "select_account"}


@dataclass
class Draft:
    params: dict[str, str]
    repeated: set[str]
    levels: tuple[str, ...] = loa.UNCERTIFIED  # the LoA URIs the deployment states
    issuer: str = ""  # a request object's aud must name it (or its /authorize)
    user_message: dict[str, Any] = field(default_factory=dict)
    authn_provider: str = ""
    sign: dict[str, Any] = field(default_factory=dict)
    now: int = 0
    skew: int = 0
    client: Client | None = None
    redirect_uri: str = ""
    state: str = ""
    scope: tuple[str, ...] = ()
    prompt: tuple[str, ...] = ()
    max_age: int | None = None
    acr_values: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict)
    ui_locales: tuple[str, ...] = ()

    def fail(self, error: str, description: str) -> AuthorizeError:
        return AuthorizeError(error, description, redirect_uri=self.redirect_uri,
                              state=self.state)


Check = Callable[[Draft, Registry], None]


def check_client(d: Draft, reg: Registry) -> None:
    if "client_id" in d.repeated:
        raise AuthorizeError("invalid_request", "client_id is repeated")
    cid = d.params.get("client_id", "")
    if not cid:
        raise AuthorizeError("invalid_request", "client_id is missing")
    d.client = reg.get(cid)
    if d.client is None:
        raise AuthorizeError("invalid_client", "unknown client_id")


def check_redirect_uri(d: Draft, reg: Registry) -> None:
    assert d.client is not None
    if "redirect_uri" in d.repeated:
        raise AuthorizeError("invalid_request", "redirect_uri is repeated")
    uri = d.params.get("redirect_uri", "")
    if not uri:
        raise AuthorizeError("invalid_request", "redirect_uri is missing")
    # Exact string match (RFC 9700 §2.1, OIDC Core §3.1.2.1).
    if uri not in d.client.redirect_uris:
        raise AuthorizeError("invalid_request", "redirect_uri is not registered for this client")
    d.redirect_uri = uri
    state = d.params.get("state", "")
    if "state" not in d.repeated and len(state) <= MAX_VALUE:
        d.state = state


def check_parameters(d: Draft, reg: Registry) -> None:
    if d.repeated:
        raise d.fail("invalid_request", f"parameter repeated: {sorted(d.repeated)[0]}")
    for name, value in d.params.items():
        if len(value) > LONGER.get(name, MAX_VALUE):
            raise d.fail("invalid_request", f"parameter too long: {name[:40]}")


def check_request_object(d: Draft, reg: Registry) -> None:
    """A request object by value (``request_objects``): its parameters win over the
    query's. Until it verifies, its redirect URI is not known; a failure then goes back
    to the query's redirect URI only if that one is registered for the client."""
    assert d.client is not None
    if "request_uri" in d.params:
        uri = d.params.get("redirect_uri", "")
        raise AuthorizeError("request_uri_not_supported", "request_uri is not supported; "
                             "send the request object by value (request)",
                             redirect_uri=uri if uri in d.client.redirect_uris else "",
                             state=d.params.get("state", "") if uri in d.client.redirect_uris
                             else "")
    if "request" not in d.params:
        return
    if "request" in d.repeated:
        raise AuthorizeError("invalid_request", "request is repeated")
    try:
        inside = request_objects.parameters(
            d.params["request"], d.client, now=d.now, skew=d.skew,
            audiences={d.issuer, d.issuer + "/authorize"})
    except request_objects.RequestObjectError as exc:
        uri = d.params.get("redirect_uri", "")
        known = uri in d.client.redirect_uris
        raise AuthorizeError("invalid_request_object", str(exc), redirect_uri=uri if known
                             else "", state=d.params.get("state", "") if known else "") from None
    merged = {k: v for k, v in d.params.items() if k != "request"}
    merged.update(inside)
    d.params = merged
    d.repeated -= set(inside)


def check_response_type(d: Draft, reg: Registry) -> None:
    rt = d.params.get("response_type")
    if not rt:
        raise d.fail("invalid_request", "response_type is missing")
    if rt != "code":
        raise d.fail("unsupported_response_type", "only response_type=code is supported")
    if d.params.get("response_mode", "query") != "query":
        raise d.fail("invalid_request", "only response_mode=query is supported")


def check_scope(d: Draft, reg: Registry) -> None:
    assert d.client is not None
    asked = d.params.get("scope", "").split()
    if "openid" not in asked:
        raise d.fail("invalid_scope", "scope must include openid")
    # Scopes the e-service is not configured for are dropped, not refused (RFC 6749 §3.3).
    d.scope = tuple(dict.fromkeys(s for s in asked if s in d.client.scopes))


def check_pkce(d: Draft, reg: Registry) -> None:
    challenge = d.params.get("code_challenge", "")
    method = d.params.get("code_challenge_method", "")
    if not challenge:
        raise d.fail("invalid_request", "code_challenge is required (PKCE)")
    if method != "S256":
        raise d.fail("invalid_request", "code_challenge_method must be S256")
    if not pkce.is_valid_challenge(challenge):
        raise d.fail("invalid_request", "code_challenge is not a valid S256 challenge")


def check_prompt(d: Draft, reg: Registry) -> None:
    values = tuple(d.params.get("prompt", "").split())
    if any(v not in PROMPTS for v in values):
        raise d.fail("invalid_request", "unknown prompt value")
    if "none" in values and len(values) > 1:
        raise d.fail("invalid_request", "prompt=none cannot be combined")
    d.prompt = values


def check_max_age(d: Draft, reg: Registry) -> None:
    raw = d.params.get("max_age")
    if raw is None:
        return
    if not raw.isdigit() or len(raw) > 10:
        raise d.fail("invalid_request", "max_age must be a non-negative integer")
    d.max_age = int(raw)


def check_claims_parameter(d: Draft, reg: Registry) -> None:
    raw = d.params.get("claims")
    if not raw:
        return
    try:
        value = json.loads(raw)
    except ValueError:
        raise d.fail("invalid_request", "claims is not valid JSON") from None
    if not isinstance(value, dict) or not all(
            isinstance(v, dict) for k, v in value.items() if k in ("id_token", "userinfo")):
        raise d.fail("invalid_request", "claims must be a JSON object (OIDC Core §5.5)")
    d.claims = {k: v for k, v in value.items() if k in ("id_token", "userinfo")}


def check_acr(d: Draft, reg: Registry) -> None:
    assert d.client is not None
    d.acr_values = tuple(d.params.get("acr_values", "").split())
    essential = d.claims.get("id_token", {}).get("acr")
    if isinstance(essential, dict) and essential.get("essential"):
        values = essential.get("values") or ([essential["value"]] if "value" in essential else [])
        d.acr_values = d.acr_values or tuple(str(v) for v in values)
    if loa.required_rank(d.acr_values, d.client.min_loa, d.levels) is None:
        raise d.fail("unmet_authentication_requirements",
                     "none of the requested acr_values is supported")


def check_extensions(d: Draft, reg: Registry) -> None:
    """oidc.se Authentication Request Parameter Extensions: a ``userMessage`` is checked
    and kept (never shown on ``prompt=none``: nothing is shown then); an
    ``authnProvider`` is kept as given."""
    raw = d.params.get(extensions.USER_MESSAGE, "")
    if raw:
        try:
            message = extensions.user_message(raw)
        except extensions.ExtensionError as exc:
            raise d.fail("invalid_request", str(exc)) from None
        if "none" not in d.prompt:
            d.user_message = message.to_dict()
    provider = d.params.get(extensions.AUTHN_PROVIDER, "")
    if len(provider) > 200:
        raise d.fail("invalid_request", "authnProvider is too long")
    d.authn_provider = provider


def check_sign_request(d: Draft, reg: Registry) -> None:
    """oidc.se Signature Extension: a signRequest with the sign (or signApproval) scope,
    from an e-service configured for it, with prompt ``login consent``."""
    assert d.client is not None
    raw = d.params.get(sign_request.PARAM, "")
    asked = set(d.params.get("scope", "").split()) & {sign_request.SCOPE_SIGN,
                                                      sign_request.SCOPE_APPROVAL}
    if not raw and not asked:
        return
    if asked - set(d.scope):
        raise d.fail("unauthorized_client", "this e-service may not ask citizens to sign")
    if not asked:
        raise d.fail("invalid_request", "signRequest needs the scope "
                     f"{sign_request.SCOPE_SIGN} or {sign_request.SCOPE_APPROVAL}")
    if len(asked) > 1:
        raise d.fail("invalid_request", "ask for one of the sign and signApproval scopes")
    if not raw:
        raise d.fail("invalid_request", f"the {next(iter(asked))} scope needs a signRequest")
    if not {"login", "consent"} <= set(d.prompt):
        raise d.fail("invalid_request", "a signing needs prompt=login consent")
    try:
        d.sign = sign_request.parse(raw, d.client, scope=next(iter(asked)), now=d.now,
                                    skew=d.skew,
                                    audiences={d.issuer, d.issuer + "/authorize"}).to_dict()
    except sign_request.SignRequestError as exc:
        raise d.fail("invalid_request", str(exc)) from None


def check_locales(d: Draft, reg: Registry) -> None:
    d.ui_locales = tuple(t.split("-")[0].lower() for t in d.params.get("ui_locales", "").split())


CHECKS: tuple[Check, ...] = (
    check_client,
    check_request_object,
    check_redirect_uri,
    check_parameters,
    check_response_type,
    check_scope,
    check_pkce,
    check_prompt,
    check_max_age,
    check_claims_parameter,
    check_acr,
    check_extensions,
    check_sign_request,
    check_locales,
)


def validate(params: dict[str, str], repeated: set[str], registry: Registry, *,
             levels: tuple[str, ...] = loa.UNCERTIFIED, issuer: str = "", now: int = 0,
             skew: int = 0) -> AuthRequest:
    """Run every check in order; return the request or raise ``AuthorizeError``.
    ``levels``: the LoA URIs the deployment states (``Settings.loa_levels``); ``issuer``,
    ``now`` and ``skew`` check a request object's audience and times."""
    d = Draft(params=params, repeated={r for r in repeated if r in SINGLE}, levels=levels,
              issuer=issuer, now=now, skew=skew)
    for check in CHECKS:
        check(d, registry)
    assert d.client is not None
    return AuthRequest(
        client_id=d.client.client_id, redirect_uri=d.redirect_uri, scope=d.scope,
        code_challenge=d.params["code_challenge"], state=d.state,
        nonce=d.params.get("nonce", ""), prompt=d.prompt, max_age=d.max_age,
        acr_values=d.acr_values, login_hint=d.params.get("login_hint", ""),
        ui_locales=d.ui_locales, claims=d.claims,
        id_token_hint=d.params.get("id_token_hint", ""), user_message=d.user_message,
        authn_provider=d.authn_provider, sign=d.sign,
    )

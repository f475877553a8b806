"""Client authentication at the token, revocation and introspection endpoints
(RFC 6749 §2.3.1, OIDC Core §9, RFC 7523 §3).

Exactly one method per request, and it must be the one the e-service registered.
Pure: the caller checks the assertion's ``jti`` against the store for replay.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import unquote

from joserfc import jws, jwt
from joserfc.errors import JoseError

from service.errors import TokenError
from service.oidc.clients import Client, Registry

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Authenticated:
    client: Client
    assertion_jti: str = ""
    assertion_exp: int = 0


def _invalid(description: str) -> TokenError:
    return TokenError("invalid_client", description, status=401)


def authenticate(registry: Registry, *, authorization: str, form: dict[str, str],
                 audiences: set[str], now: int, max_assertion_life: int,
                 skew: int) -> Authenticated:
    """The client, authenticated by the one method it registered. An assertion may live at
    most ``max_assertion_life`` and be ``skew`` seconds past its expiry
    (``Settings.lifetimes``: client_assertion, clock_skew)."""
    basic = authorization[:6].lower() == "basic " if authorization else False
    posted = "client_secret" in form
    assertion = "client_assertion" in form
    if sum((basic, posted, assertion)) != 1:
        raise _invalid("use exactly one client authentication method")
    if basic:
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            cid, sep, secret = raw.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid("malformed Basic credentials") from None
        if not sep:
            raise _invalid("malformed Basic credentials")
        # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
        return _secret(registry, unquote(cid), unquote(secret), "client_secret_basic", form)
    if posted:
        return _secret(registry, form.get("client_id", ""), form["client_secret"],
                       "client_secret_post", form)
    return _assertion(registry, form, audiences, now, max_assertion_life, skew)


def _secret(registry: Registry, cid: str, secret: str, method: str,
            form: dict[str, str]) -> Authenticated:
    client = registry.get(cid)
    if form.get("client_id", cid) != cid:
        raise _invalid("client_id does not match the credentials")
    if client is None or client.token_endpoint_auth_method != method:
        raise _invalid("client authentication failed")
    if not client.check_secret(secret):
        raise _invalid("client authentication failed")
    return Authenticated(client)


def _assertion(registry: Registry, form: dict[str, str], audiences: set[str],
               now: int, max_life: int, skew: int) -> Authenticated:
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise _invalid("client_assertion_type must be jwt-bearer")
    token = form["client_assertion"]
    if len(token) > 8192 or token.count(".") != 2:
        raise _invalid("malformed client assertion")
    try:
        # Peek at the unverified issuer only to find whose keys to verify with.
        cid = json.loads(jws.extract_compact(token.encode()).payload).get("iss")
    except (JoseError, ValueError, AttributeError, UnicodeDecodeError):
        cid = None
    cid = cid if isinstance(cid, str) else form.get("client_id", "")
    client = registry.get(cid)
    if client is None or client.token_endpoint_auth_method != "private_key_jwt" \
            or client.jwks is None:
        raise _invalid("client authentication failed")
    if form.get("client_id", cid) != cid:
        raise _invalid("client_id does not match the assertion")
    try:
        decoded = jwt.decode(token, client.jwks, algorithms=["ES256", "RS256", "PS256"])
    except (JoseError, ValueError, KeyError, TypeError):
        raise _invalid("client assertion signature is not valid") from None
    claims = decoded.claims
    aud = claims.get("aud")
    auds = {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
    exp, jti = claims.get("exp"), claims.get("jti")
    if claims.get("iss") != cid or claims.get("sub") != cid:
        raise _invalid("client assertion iss and sub must be the client_id")
    if not auds & audiences:
        raise _invalid("client assertion audience is not this server")
    if not isinstance(exp, int) or exp < now - skew or exp > now + max_life:
        raise _invalid("client assertion is expired or lives too long")
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise _invalid("client assertion needs a jti")
    return Authenticated(client, assertion_jti=jti, assertion_exp=exp)


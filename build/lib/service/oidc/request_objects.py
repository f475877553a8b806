"""Request objects by value (OIDC Core §6.1, the Swedish OIDC profile): the
authorization request's parameters in a JWT the e-service signed with its registered
key. Pure: no I/O.

The object must be signed (ES256 or RS256; ``alg: none`` and HMAC are refused) with a
key of the client's JWKS, name the client as ``iss`` and this provider (the issuer or
its authorization endpoint) in ``aud``, and, when it says so, be neither expired nor
not yet valid. Its parameters win over the same ones in the query (§6.3.3); a
``claims`` parameter inside is honoured as if it had been sent on its own.
"""

from __future__ import annotations

import json
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from service.oidc.clients import Client

ALGS = ("ES256", "RS256")
MAX_LENGTH = 16_384
_JWT_CLAIMS = frozenset({"iss", "aud", "exp", "iat", "nbf", "jti", "sub"})


class RequestObjectError(ValueError):
    """What is wrong with a request object (the ``invalid_request_object`` description)."""


def parameters(token: str, client: Client, *, audiences: set[str], now: int,
               skew: int) -> dict[str, str]:
    """The authorization parameters inside ``token``, each as a string, or
    ``RequestObjectError``."""
    if client.jwks is None:
        raise RequestObjectError("the e-service has no registered key (jwks) to sign "
                                 "request objects with")
    if len(token) > MAX_LENGTH or token.count(".") != 2:
        raise RequestObjectError("the request object is not a signed JWT")
    try:
        decoded = jwt.decode(token, client.jwks, algorithms=list(ALGS))
    except (JoseError, ValueError, KeyError, TypeError):
        raise RequestObjectError("the request object's signature does not verify with the "
                                 f"e-service's registered keys ({' or '.join(ALGS)})") from None
    claims: dict[str, Any] = dict(decoded.claims)
    if claims.get("iss") != client.client_id:
        raise RequestObjectError("the request object's iss must be the client_id")
    aud = claims.get("aud")
    auds = {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
    if not auds & audiences:
        raise RequestObjectError("the request object's aud must be this provider's issuer")
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if exp is not None and (not isinstance(exp, int) or exp < now - skew):
        raise RequestObjectError("the request object has expired")
    if nbf is not None and (not isinstance(nbf, int) or nbf > now + skew):
        raise RequestObjectError("the request object is not valid yet")
    if claims.get("client_id", client.client_id) != client.client_id:
        raise RequestObjectError("the request object's client_id is another client's")
    return {k: _text(v) for k, v in claims.items() if k not in _JWT_CLAIMS}


def _text(value: Any) -> str:
    """A parameter as the query would carry it: JSON objects (``claims``) as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))

"""Validating a Back-Channel Logout token, as an e-service must (OpenID Connect
Back-Channel Logout 1.0 §2.6). E-service developers copy this: every step is one rule
of the section, in its order, and a token that breaks any of them is refused (400).

Pure but for the replay memory (``SeenTokens``), which a real e-service keeps in its
own shared store for as long as tokens may live.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_AGE_S = 300  # how old an ``iat`` we accept; longer than the token's own 2 minutes
LEEWAY_S = 30


class InvalidLogoutToken(ValueError):
    pass


@dataclass
class SeenTokens:
    """``jti`` values already accepted, kept until the tokens would have expired."""

    until: dict[str, float] = field(default_factory=dict)

    def first_time(self, jti: str, exp: float) -> bool:
        now = time.time()
        for old in [k for k, t in self.until.items() if t < now]:
            del self.until[old]
        if jti in self.until:
            return False
        self.until[jti] = exp + LEEWAY_S
        return True


def validate(token: str, *, keys: KeySet, issuer: str, client_id: str, seen: SeenTokens,
             now: float | None = None) -> dict[str, Any]:
    """The token's claims when it is a valid logout token for this e-service."""
    now = time.time() if now is None else now
    # §2.6 step 2-3: a JWS signed by the OP with an algorithm it announced; never "none".
    try:
        decoded = jwt.decode(token, keys, algorithms=["ES256", "RS256"])
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidLogoutToken(f"signature: {type(exc).__name__}") from None
    header, claims = decoded.header, dict(decoded.claims)
    # §2.4: explicit typing (RFC 8725 §3.11) keeps an ID token from posing as one.
    if header.get("typ") != "logout+jwt":
        raise InvalidLogoutToken("typ is not logout+jwt")
    # §2.6 step 4: iss, aud, iat (and exp when present) as for an ID token.
    if claims.get("iss") != issuer:
        raise InvalidLogoutToken("iss is not the OP")
    aud = claims.get("aud")
    if client_id not in ([aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []):
        raise InvalidLogoutToken("aud does not name this e-service")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not now - MAX_AGE_S <= iat <= now + LEEWAY_S:
        raise InvalidLogoutToken("iat is missing or out of range")
    if not isinstance(exp, int) or exp + LEEWAY_S < now:
        raise InvalidLogoutToken("exp is missing or past")
    # §2.6 step 5: sid, sub or both.
    if not isinstance(claims.get("sid"), str) and not isinstance(claims.get("sub"), str):
        raise InvalidLogoutToken("neither sid nor sub")
    # §2.6 step 6: events holds the back-channel logout event, a JSON object.
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(EVENT), dict):
        raise InvalidLogoutToken("events lacks the back-channel logout event")
    # §2.6 step 7: no nonce (an ID token is not a logout token).
    if "nonce" in claims:
        raise InvalidLogoutToken("a logout token has no nonce")
    # §2.6 step 8 (optional, and we do it): a jti not seen before.
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or not seen.first_time(jti, exp):
        raise InvalidLogoutToken("jti missing or already used")
    return claims

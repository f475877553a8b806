"""Minting and checking the tokens idportal issues. Pure functions: keys, issuer and
``now`` come in as arguments.

- ID token (OIDC Core §2), signed ES256 by default or RS256 per e-service.
- Access token: a JWT (RFC 9068, ``typ: at+jwt``) naming its grant; userinfo and
  introspection also check in the store that the grant is still alive.
- Refresh token: ``<grant id>.<secret>``, opaque to the e-service; only a digest is stored.
- Logout token (OIDC Back-Channel Logout §2.4, ``typ: logout+jwt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.crypto import half_hash, new_id
from service.oidc import compact_jws
from service.oidc.keyring import KeyRing

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ID_TOKEN_TYP = "JWT"  # access tokens are at+jwt, logout tokens logout+jwt: never hints


class InvalidToken(ValueError):
    pass


def id_token(ring: KeyRing, *, issuer: str, client_id: str, sub: str, alg: str, now: int,
             lifetime: int, auth_time: int, acr: str, sid: str, nonce: str = "",
             access_token: str = "", code: str = "", claims: dict[str, Any] | None = None,
             amr: tuple[str, ...] = ()) -> str:
    body: dict[str, Any] = {
        "iss": issuer, "sub": sub, "aud": client_id, "azp": client_id,
        "iat": now, "exp": now + lifetime, "auth_time": auth_time, "acr": acr, "sid": sid,
        "jti": new_id(12),
    }
    if amr:
        body["amr"] = list(amr)
    if nonce:
        body["nonce"] = nonce
    if access_token:
        body["at_hash"] = half_hash(access_token, alg)
    if code:
        body["c_hash"] = half_hash(code, alg)
    body.update(claims or {})
    return ring.sign(body, alg=alg)


def access_token(ring: KeyRing, *, issuer: str, client_id: str, sub: str, scope: tuple[str, ...],
                 grant_id: str, now: int, lifetime: int, acr: str, auth_time: int) -> tuple[str, str]:
    """Returns (token, jti)."""
    jti = new_id(16)
    body = {
        "iss": issuer, "sub": sub, "aud": issuer, "client_id": client_id,
        "scope": " ".join(scope), "iat": now, "exp": now + lifetime, "jti": jti,
        "gid": grant_id, "acr": acr, "auth_time": auth_time,
    }
    return ring.sign(body, typ="at+jwt"), jti


def logout_token(ring: KeyRing, *, issuer: str, client_id: str, sub: str, sid: str,
                 now: int, lifetime: int, alg: str = "ES256") -> str:
    body = {
        "iss": issuer, "sub": sub, "aud": client_id, "iat": now, "exp": now + lifetime,
        "jti": new_id(16), "sid": sid, "events": {BACKCHANNEL_EVENT: {}},
    }
    return ring.sign(body, alg=alg, typ="logout+jwt")


def refresh_token(grant_id: str) -> str:
    """A secret bound to its grant, ``<grant id>.<256 random bits>``: refresh tokens and
    authorization codes, so the store finds the grant without a look-up."""
    return f"{grant_id}.{new_id(32)}"


authorization_code = refresh_token


def split_refresh_token(token: str) -> str | None:
    """The grant id of a well-formed refresh token or code, else None."""
    gid, dot, secret = token.partition(".")
    if not dot or not (16 <= len(gid) <= 64) or not (32 <= len(secret) <= 64):
        return None
    return gid


@dataclass(frozen=True)
class Verified:
    header: dict[str, Any]
    claims: dict[str, Any]


def verify_id_token_hint(ring: KeyRing, token: str, *, issuer: str, now: int) -> Verified:
    """An ``id_token_hint`` (OIDC Core §3.1.2.1, RP-Initiated Logout §2): one of our ID
    tokens, expired or not; an access or logout token is refused."""
    v = verify(ring, token, issuer=issuer, typ=ID_TOKEN_TYP, now=now, allow_expired=True)
    if "auth_time" not in v.claims or "gid" in v.claims or "events" in v.claims:
        raise InvalidToken("not an ID token")
    return v


def verify(ring: KeyRing, token: str, *, issuer: str, typ: str | None, now: int,
           allow_expired: bool = False, leeway: int = 0) -> Verified:
    """Check a token idportal issued: signature with a published key (ES256/RS256 only:
    ``none`` and HMAC are never accepted), issuer, type and expiry."""
    if not isinstance(token, str) or len(token) > 8192 or token.count(".") != 2:
        raise InvalidToken("malformed token")
    try:
        header, claims = compact_jws.verify(token, ring.verifying)
    except (compact_jws.BadJWS, ValueError, UnicodeError) as exc:
        raise InvalidToken(f"bad signature or format ({exc})") from exc
    if typ is not None and header.get("typ") != typ:
        raise InvalidToken("wrong token type")
    if claims.get("iss") != issuer:
        raise InvalidToken("wrong issuer")
    exp = claims.get("exp")
    if not isinstance(exp, int):
        raise InvalidToken("no expiry")
    if not allow_expired and exp + leeway < now:
        raise InvalidToken("expired")
    return Verified(header, claims)

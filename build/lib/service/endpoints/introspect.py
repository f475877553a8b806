"""``/introspect`` (RFC 7662). A client learns only about tokens issued to it; anything
else, and anything revoked or expired, is ``{"active": false}``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from service.endpoints.token import NO_STORE, client_and_token
from service.oidc import issued_tokens
from service.oidc.issued_tokens import InvalidToken, verify
from service.web.http import JSONResponse

INACTIVE = {"active": False}


async def introspect(request: Request) -> JSONResponse:
    n, client, token = await client_and_token(request)
    ring = n.keys.current
    gid = issued_tokens.split_refresh_token(token)
    if gid is not None:
        grant = await n.store.grants.refresh_grant(gid, token)
        if grant is None or grant.client_id != client.client_id:
            return JSONResponse(INACTIVE, headers=NO_STORE)
        return JSONResponse({"active": True, "token_type": "refresh_token",
                             "client_id": grant.client_id, "scope": " ".join(grant.scope),
                             "sub": ring.subject(grant.identity.personal_number,
                                                 client.sector),
                             "exp": grant.expires_at, "iss": n.settings.issuer},
                            headers=NO_STORE)
    try:
        v = verify(ring, token, issuer=n.settings.issuer, typ="at+jwt", now=n.now(), leeway=0)
    except InvalidToken:
        return JSONResponse(INACTIVE, headers=NO_STORE)
    c = v.claims
    if c.get("client_id") != client.client_id:
        return JSONResponse(INACTIVE, headers=NO_STORE)
    if await n.store.grants.grant_for_access_token(str(c.get("gid")), str(c.get("jti"))) is None:
        return JSONResponse(INACTIVE, headers=NO_STORE)
    body: dict[str, Any] = {"active": True, "token_type": "Bearer"}
    body.update({k: c[k] for k in ("scope", "client_id", "sub", "exp", "iat", "iss", "jti",
                                   "acr", "auth_time") if k in c})
    return JSONResponse(body, headers=NO_STORE)

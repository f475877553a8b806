"""``/revoke`` (RFC 7009). A refresh token revokes its whole grant (and so every access
token of it); an access token is revoked on its own. Unknown tokens answer 200 (§2.2)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from service.endpoints.token import NO_STORE, client_and_token
from service.oidc import issued_tokens
from service.oidc.issued_tokens import InvalidToken, verify


async def revoke(request: Request) -> Response:
    n, client, token = await client_and_token(request)
    gid = issued_tokens.split_refresh_token(token)
    if gid is not None:
        grant = await n.store.grants.refresh_grant(gid, token)
        if grant is not None and grant.client_id == client.client_id:
            await n.store.grants.revoke_grants([gid])
        return Response(status_code=200, headers=NO_STORE)
    try:
        v = verify(n.keys.current, token, issuer=n.settings.issuer, typ="at+jwt", now=n.now(),
                   leeway=n.settings.lifetimes.clock_skew)
    except InvalidToken:
        return Response(status_code=200, headers=NO_STORE)
    gid, jti = v.claims.get("gid"), v.claims.get("jti")
    if v.claims.get("client_id") == client.client_id and isinstance(gid, str) \
            and isinstance(jti, str):
        await n.store.grants.revoke_access_token(gid, jti)
    return Response(status_code=200, headers=NO_STORE)

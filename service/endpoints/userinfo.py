"""``/userinfo`` (OIDC Core §5.3): GET or POST, bearer token in the header or the form
body (RFC 6750 §2.1, §2.2), never in the query. JSON, or a signed JWT (``iss``, ``aud``)
for an e-service registered with ``userinfo_signed_response_alg``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from service import observability
from service.errors import BearerError
from service.oidc import claims as claimsmod
from service.oidc.issued_tokens import InvalidToken, verify
from service.records import Grant
from service.state import Node, node
from service.web import http
from service.web.http import JSONResponse


async def bearer_grant(request: Request, n: Node, token: str) -> tuple[Grant, dict[str, object]]:
    try:
        v = verify(n.keys.current, token, issuer=n.settings.issuer, typ="at+jwt", now=n.now(),
                   leeway=0)
    except InvalidToken as exc:
        raise BearerError("invalid_token", f"the access token is not valid: {exc}") from None
    gid, jti = v.claims.get("gid"), v.claims.get("jti")
    if not isinstance(gid, str) or not isinstance(jti, str):
        raise BearerError("invalid_token", "the access token is not valid")
    observability.bind(client_id=str(v.claims.get("client_id", ""))[:100])
    grant = await n.store.grants.grant_for_access_token(gid, jti)
    if grant is None:
        raise BearerError("invalid_token", "the access token was revoked")
    return grant, v.claims


async def userinfo(request: Request) -> Response:
    n = node(request)
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        form, _ = await http.form(request, limit=n.settings.max_body_bytes)
        if form.get("access_token"):
            if token:
                raise BearerError("invalid_request", "use one way to send the token", status=400)
            token = form["access_token"]
    if not token:
        raise BearerError("invalid_token", "no access token")
    grant, at_claims = await bearer_grant(request, n, token)
    client = n.registry.get(grant.client_id)
    if client is None:
        raise BearerError("invalid_token", "the e-service of this token is no longer registered")
    allowed = client.claims
    body: dict[str, object] = {
        "sub": n.keys.current.subject(grant.identity.personal_number, client.sector)}
    body.update(claimsmod.release(grant.identity,
                                  claimsmod.requested(_token_scope(at_claims, grant.scope), grant.claims,
                                                      "userinfo"),
                                  allowed, org=grant.org))
    if client.userinfo_alg:
        # OIDC Core §5.3.2: signed, with iss and aud, for an e-service registered so.
        body.update({"iss": n.settings.issuer, "aud": client.client_id, "iat": n.now()})
        return Response(n.keys.current.sign(body, alg=client.userinfo_alg),
                        media_type="application/jwt", headers={"Cache-Control": "no-store"})
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _token_scope(claims: dict[str, object], granted: tuple[str, ...]) -> tuple[str, ...]:
    """The access token's own scope (narrower after a refresh that asked for less, RFC 6749
    §6), never more than the grant holds."""
    raw = claims.get("scope")
    own = set(raw.split()) if isinstance(raw, str) else set(granted)
    return tuple(s for s in granted if s in own)

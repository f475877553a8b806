"""``/token`` (RFC 6749 §3.2, OIDC Core §3.1.3): authorization_code and refresh_token.

A code is consumed once, atomically; a second use is refused and revokes what the
first issued (RFC 6749 §4.1.2). Refresh tokens rotate; presenting a rotated one
revokes the family (RFC 9700 §4.14.2).
"""

from __future__ import annotations

from typing import Any

import structlog
from starlette.requests import Request

from service import metrics, observability
from service.crypto import digest, new_id
from service.errors import TokenError
from service.oidc import claims as claimsmod
from service.oidc import extensions, issued_tokens, pkce, sign_request
from service.oidc.client_auth import authenticate
from service.oidc.clients import Client
from service.records import CodeGrant, Grant
from service.state import Node, node
from service.web import http
from service.web.http import JSONResponse

log = structlog.get_logger("idportal.token")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def authenticated_client(request: Request, n: Node) -> tuple[Client, dict[str, str]]:
    """Parse the form and authenticate the client (shared with revoke and introspect)."""
    form, repeated = await http.form(request, limit=n.settings.max_body_bytes)
    if repeated:
        raise TokenError("invalid_request", f"parameter repeated: {sorted(repeated)[0]}")
    now, lt = n.now(), n.settings.lifetimes
    auth = authenticate(n.registry, authorization=request.headers.get("authorization", ""),
                        form=form, audiences={n.settings.issuer, n.settings.issuer + "/token"},
                        now=now, max_assertion_life=lt.client_assertion, skew=lt.clock_skew)
    observability.bind(client_id=auth.client.client_id)
    # The assertion's jti is remembered until the assertion could no longer be accepted.
    if auth.assertion_jti and not await n.store.grants.first_use_of_assertion(
            auth.client.client_id, auth.assertion_jti,
            max(auth.assertion_exp - now, 0) + lt.clock_skew):
        raise TokenError("invalid_client", "client assertion was already used", status=401)
    return auth.client, form


async def client_and_token(request: Request) -> tuple[Node, Client, str]:
    """The authenticated client and its ``token`` parameter (RFC 7009 §2.1, RFC 7662 §2.1),
    for the revocation and introspection endpoints."""
    n = node(request)
    client, form = await authenticated_client(request, n)
    token = form.get("token", "")
    if not token:
        raise TokenError("invalid_request", "token is required")
    return n, client, token


async def token(request: Request) -> JSONResponse:
    n = node(request)
    client, form = await authenticated_client(request, n)
    grant_type = form.get("grant_type", "")
    if grant_type not in client.grant_types:
        raise TokenError("unsupported_grant_type" if grant_type not in (
            "authorization_code", "refresh_token") else "unauthorized_client",
            "grant_type not allowed for this client")
    try:
        body = await (_code(n, client, form) if grant_type == "authorization_code"
                      else _refresh(n, client, form))
    except TokenError as exc:
        metrics.TOKENS.labels(grant_type, exc.error).inc()
        raise
    metrics.TOKENS.labels(grant_type, "ok").inc()
    return JSONResponse(body, headers=NO_STORE)


async def _code(n: Node, client: Client, form: dict[str, str]) -> dict[str, Any]:
    code, verifier = form.get("code", ""), form.get("code_verifier", "")
    if not code or len(code) > 128 or not form.get("redirect_uri"):
        raise TokenError("invalid_request", "code and redirect_uri are required")
    if not verifier:
        raise TokenError("invalid_request", "code_verifier is required (PKCE)")
    gid = issued_tokens.split_refresh_token(code)  # a code names its grant, as a refresh token does
    if gid is None:
        raise TokenError("invalid_grant", "the code is unknown or expired")
    # Redeeming also arms the grant (written with the code) with the refresh token: one
    # confirmed step. Should a check below fail, the grant is revoked with the code.
    refresh = issued_tokens.refresh_token(gid) if "refresh_token" in client.grant_types else ""
    redeemed = await n.store.grants.consume_code(
        code, gid, attempt=new_id(16), now=n.now(),
        refresh_digest=digest(refresh) if refresh else "")
    outcome, grant, expires_at = redeemed.outcome, redeemed.code_grant, redeemed.expires_at
    if outcome == "reused" and grant is not None:
        await n.store.grants.revoke_grants([grant.grant_id])
        log.warning("code_reuse", client_id=client.client_id, grant_client=grant.client_id)
        raise TokenError("invalid_grant", "the code was already used; its tokens are revoked")
    if outcome != "ok" or grant is None:
        raise TokenError("invalid_grant", "the code is unknown or expired, or its login "
                                          "has ended")
    problem = _redemption_problem(client, grant, form["redirect_uri"], verifier)
    if problem:
        await n.store.grants.revoke_grants([grant.grant_id])
        raise TokenError("invalid_grant", problem)
    # A signature goes only into this ID token: a signing is never reused (no refresh,
    # no SSO carries it).
    signed = {sign_request.CLAIM: grant.user_signature} if grant.user_signature else {}
    return _tokens(n, client, grant.grant(expires_at), now=n.now(), nonce=grant.nonce,
                   refresh=refresh, code=code, extra=signed)


def _redemption_problem(client: Client, grant: CodeGrant, redirect_uri: str,
                        verifier: str) -> str:
    if grant.client_id != client.client_id:
        return "the code was issued to another client"
    if grant.redirect_uri != redirect_uri:
        return "redirect_uri does not match the authorization request"
    if not pkce.verify(verifier, grant.code_challenge):
        return "PKCE verification failed"
    return ""


async def _refresh(n: Node, client: Client, form: dict[str, str]) -> dict[str, Any]:
    presented = form.get("refresh_token", "")
    gid = issued_tokens.split_refresh_token(presented)
    if gid is None:
        raise TokenError("invalid_grant", "the refresh token is not valid")
    new = issued_tokens.refresh_token(gid)
    rotated = await n.store.grants.rotate_refresh(gid, presented, new, client.client_id)
    outcome, grant = rotated.outcome, rotated.grant
    if outcome == "reused":
        log.warning("refresh_reuse", client_id=client.client_id)
        raise TokenError("invalid_grant", "the refresh token was already used; "
                                          "the token family is revoked")
    if outcome != "ok" or grant is None:
        raise TokenError("invalid_grant", "the refresh token is not valid")
    scope = grant.scope
    if form.get("scope"):
        # RFC 6749 §6: a narrower scope gives narrower tokens; the refresh token keeps
        # the grant's scope, so a later refresh may ask for the original again.
        asked = form["scope"].split()
        if not set(asked) <= set(grant.scope):
            raise TokenError("invalid_scope", "a refresh cannot widen the scope")
        scope = tuple(s for s in grant.scope if s in set(asked))
    return _tokens(n, client, grant, now=n.now(), nonce="", refresh=new, code="", scope=scope)


def _tokens(n: Node, client: Client, grant: Grant, *, now: int, nonce: str, refresh: str,
            code: str, scope: tuple[str, ...] | None = None,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The token response for ``grant``, limited to ``scope`` (default: the grant's)."""
    scope = grant.scope if scope is None else scope
    ring = n.keys.current
    lt = n.settings.lifetimes
    sub = ring.subject(grant.identity.personal_number, client.sector)
    access, _ = issued_tokens.access_token(ring, issuer=n.settings.issuer, client_id=client.client_id,
                                  sub=sub, scope=scope, grant_id=grant.grant_id, now=now,
                                  lifetime=lt.access_token, acr=grant.acr,
                                  auth_time=grant.identity.auth_time)
    released = claimsmod.release(grant.identity,
                                 claimsmod.requested(scope, grant.claims, "id_token"),
                                 client.claims, org=grant.org)
    # The oidc.se authentication-event claim: which way in the citizen took.
    released[extensions.AUTHN_PROVIDER_CLAIM] = extensions.provider_uri(
        grant.identity.method, n.settings.issuer)
    released.update(extra or {})
    id_token = issued_tokens.id_token(ring, issuer=n.settings.issuer, client_id=client.client_id,
                             sub=sub, alg=client.id_token_alg, now=now, lifetime=lt.id_token,
                             auth_time=grant.identity.auth_time, acr=grant.acr, sid=grant.sid,
                             nonce=nonce, access_token=access, code=code, claims=released,
                             amr=(grant.identity.method,))
    body: dict[str, Any] = {"access_token": access, "token_type": "Bearer",
                            "expires_in": lt.access_token, "id_token": id_token,
                            "scope": " ".join(scope)}
    if refresh:
        body["refresh_token"] = refresh
    return body

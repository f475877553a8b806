"""``/authorize`` (OIDC Core §3.1.2): validate, then answer from the SSO session or
start a login. GET and POST (§3.1.2.1)."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response

from service import loa, observability
from service.errors import AuthorizeError
from service.login import flow
from service.oidc import authorize_checks
from service.oidc.issued_tokens import InvalidToken, verify_id_token_hint
from service.personnummer import InvalidPersonalNumber, parse
from service.records import AuthRequest, Session
from service.sso.issue import code_response
from service.state import Node, node
from service.web import http


async def authorize(request: Request) -> Response:
    n = node(request)
    if request.method == "POST":
        params, repeated = await http.form(request, limit=n.settings.max_body_bytes)
    else:
        params, repeated = http.query(request)
    observability.bind(client_id=params.get("client_id", "")[:100])
    req = authorize_checks.validate(params, repeated, n.registry, levels=n.settings.loa_levels,
                                    issuer=n.settings.issuer, now=n.now(),
                                    skew=n.settings.lifetimes.clock_skew)
    client = n.registry.get(req.client_id)
    assert client is not None
    required = loa.required_rank(req.acr_values, client.min_loa, n.settings.loa_levels)
    assert required is not None
    secure = n.settings.cookie_secure
    cookie = http.get_cookie(request, http.SESSION_COOKIE, secure=secure)
    now = n.now()
    session = await n.store.sessions.get(cookie, now=now) if cookie else None
    hint_sub = _id_token_hint_subject(n, req.id_token_hint, req)
    req = dataclasses.replace(req, id_token_hint="")  # the login needs it no more

    if session and _session_answers(n, session, req, required, hint_sub, now):
        if not flow.needs_context(n, req):
            return await code_response(n, req, session_cookie=cookie, session=session)
        # Organisation context: the one chosen here before, unless the citizen asks to
        # choose again (prompt=select_account) or may no longer act for it. Never silent.
        kept = session.contexts.get(req.client_id)
        org = flow.organisation(n, session.identity, kept) if kept else None
        if "select_account" not in req.prompt and (kept == "self" or org is not None or (
                kept is None and not flow.organisations(n, session.identity))):
            return await code_response(n, req, session_cookie=cookie, session=session,
                                       org=org, context=kept or "self")
        if "none" in req.prompt:
            raise AuthorizeError("interaction_required", "the citizen must choose whom they "
                                 "act for", redirect_uri=req.redirect_uri, state=req.state)
        return await flow.start(request, n, req, proven=session.identity)
    if "none" in req.prompt:
        error = "login_required" if session is None else "interaction_required"
        raise AuthorizeError(error, "the citizen must log in", redirect_uri=req.redirect_uri,
                             state=req.state)
    if not loa.methods_for(required, client.methods):
        raise AuthorizeError("unmet_authentication_requirements", "none of the ways in this "
                             "e-service offers reaches the level it asks for",
                             redirect_uri=req.redirect_uri, state=req.state)
    return await flow.start(request, n, req,
                            step_up_from=session.identity.personal_number if session else "")


def _session_answers(n: Node, session: Session, req: AuthRequest, required: int,
                     hint_sub: str | None, now: int) -> bool:
    if "login" in req.prompt:
        return False
    if req.max_age is not None and now - session.identity.auth_time > req.max_age:
        return False
    if not loa.satisfies(session.identity.acr, required):
        return False
    client = n.registry.get(req.client_id)
    if hint_sub is not None and (client is None or hint_sub != n.keys.current.subject(
            session.identity.personal_number, client.sector)):
        return False
    if req.login_hint:
        try:
            if parse(req.login_hint).digits != session.identity.personal_number:
                return False
        except InvalidPersonalNumber:
            pass
    return True


def _id_token_hint_subject(n: Node, hint: str, req: AuthRequest) -> str | None:
    """The ``sub`` of a valid ``id_token_hint`` we issued (expired is fine, §3.1.2.1)."""
    if not hint:
        return None
    try:
        v = verify_id_token_hint(n.keys.current, hint, issuer=n.settings.issuer, now=n.now())
    except InvalidToken:
        raise AuthorizeError("invalid_request", "id_token_hint is not valid",
                             redirect_uri=req.redirect_uri, state=req.state) from None
    sub = v.claims.get("sub")
    return sub if isinstance(sub, str) else None

"""The successful authorization response (OIDC Core §3.1.2.5, RFC 9207 ``iss``):
mint a code for an authenticated session and redirect back to the e-service (303)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from redis.asyncio.client import Pipeline
from starlette.responses import RedirectResponse

from service.crypto import new_id
from service.records import AuthRequest, CodeGrant, Session
from service.state import Node


async def code_response(node: Node, req: AuthRequest, *, session_cookie: str,
                        session: Session, also: Callable[[Pipeline], None] | None = None
                        ) -> RedirectResponse:
    code = new_id(32)
    grant = CodeGrant(
        client_id=req.client_id, redirect_uri=req.redirect_uri,
        code_challenge=req.code_challenge, scope=req.scope, nonce=req.nonce,
        sid=session.sid, grant_id=new_id(16), identity=session.identity,
        acr=session.identity.acr, claims=req.claims,
    )
    await node.store.tokens.issue_code(code, grant, session_cookie=session_cookie, also=also)
    params = {"code": code, "iss": node.settings.issuer}
    if req.state:
        params["state"] = req.state
    sep = "&" if "?" in req.redirect_uri else "?"
    return RedirectResponse(req.redirect_uri + sep + urlencode(params), status_code=303)

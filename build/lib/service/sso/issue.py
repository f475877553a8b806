"""The successful authorization response (OIDC Core §3.1.2.5, RFC 9207 ``iss``):
mint a code for an authenticated session and redirect back to the e-service (303).

A finished login stores its first code in the step that finishes it
(``login.flow.complete``): minting, storing and redirecting are separate steps for that."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import RedirectResponse

from service.crypto import new_id
from service.oidc import issued_tokens
from service.records import AuthRequest, CodeGrant, Session
from service.state import Node
from service.store.grants import MintedCode


def mint_code(node: Node, req: AuthRequest, session: Session, *,
              user_signature: str = "", org: dict[str, str] | None = None) -> MintedCode:
    """A new code for ``req`` in ``session`` (not yet stored); it names its grant."""
    grant_id = new_id(16)
    code_grant = CodeGrant(
        client_id=req.client_id, redirect_uri=req.redirect_uri,
        code_challenge=req.code_challenge, scope=req.scope, nonce=req.nonce,
        sid=session.sid, grant_id=grant_id, identity=session.identity,
        acr=session.identity.acr, claims=req.claims, user_signature=user_signature,
        org=org or {},
    )
    return MintedCode(issued_tokens.authorization_code(grant_id), code_grant,
                      expires_at=node.now() + node.settings.lifetimes.refresh_token)


def redirect_with_code(node: Node, req: AuthRequest, code: str) -> RedirectResponse:
    params = {"code": code, "iss": node.settings.issuer}
    if req.state:
        params["state"] = req.state
    sep = "&" if "?" in req.redirect_uri else "?"
    return RedirectResponse(req.redirect_uri + sep + urlencode(params), status_code=303)


async def code_response(node: Node, req: AuthRequest, *, session_cookie: str,
                        session: Session, org: dict[str, str] | None = None,
                        context: str = "") -> RedirectResponse:
    """A code for a live session (SSO): store it, then send it to the e-service.
    ``org``/``context``: the organisation context kept for this e-service."""
    minted = mint_code(node, req, session, org=org)
    await node.store.grants.issue_code(minted, now=node.now(), session_cookie=session_cookie,
                                       context=context)
    return redirect_with_code(node, req, minted.code)

"""``/end_session``: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

The browser's session ends without a question only when the ``id_token_hint`` was issued
in it; otherwise the citizen confirms first. Ending it is ``service.sso.logout``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from service.crypto import mac, same
from service.errors import PageError
from service.oidc.issued_tokens import InvalidToken, verify_id_token_hint
from service.records import Session
from service.sso.logout import end_session
from service.state import Node, node
from service.web import http
from service.web.render import page


def _logout_csrf(n: Node, cookie: str) -> str:
    return mac(n.keys.current.subject_secret, b"logout|" + cookie.encode()).hex()


def hint_names(n: Node, hint: dict[str, object], session: Session) -> bool:
    """Whether a verified ``id_token_hint`` was issued in this browser's session (its
    ``sid``), or to the same citizen (``sub``: a step-up gave the session a new sid)."""
    if not hint:
        return False
    sid, sub, aud = hint.get("sid"), hint.get("sub"), hint.get("aud")
    if isinstance(sid, str) and same(sid, session.sid):
        return True
    # The sub is the one the hint's e-service sees (pairwise per sector).
    client = n.registry.get(aud) if isinstance(aud, str) else None
    return client is not None and isinstance(sub, str) and same(
        sub, n.keys.current.subject(session.identity.personal_number, client.sector))


async def end_session_endpoint(request: Request) -> Response:
    """``/end_session``: GET or POST with id_token_hint, post_logout_redirect_uri, state,
    client_id, ui_locales. The browser's session ends without a question only when the
    id_token_hint was issued in it; otherwise the citizen confirms first."""
    n = node(request)
    if request.method == "POST":
        params, repeated = await http.form(request, limit=n.settings.max_body_bytes)
    else:
        params, repeated = http.query(request)
    if repeated:
        raise PageError("err_bad_request", detail="a parameter is repeated")
    loc = http.locale(request, tuple(params.get("ui_locales", "").split()),
                      n.settings.default_locale)
    secure = n.settings.cookie_secure
    cookie = http.get_cookie(request, http.SESSION_COOKIE, secure=secure)

    client_id = params.get("client_id", "")
    hint: dict[str, object] = {}
    if params.get("id_token_hint"):
        try:
            hint = verify_id_token_hint(n.keys.current, params["id_token_hint"],
                                        issuer=n.settings.issuer, now=n.now()).claims
        except InvalidToken:
            raise PageError("err_bad_request", detail="id_token_hint is not valid") from None
        aud = hint.get("aud")
        aud_id = aud if isinstance(aud, str) else aud[0] if isinstance(aud, list) and aud else ""
        if client_id and client_id != aud_id:
            raise PageError("err_bad_request", detail="client_id does not match id_token_hint")
        client_id = str(aud_id)

    target = params.get("post_logout_redirect_uri", "")
    if target:
        client = n.registry.get(client_id)
        if client is None or target not in client.post_logout_redirect_uris:
            raise PageError("err_bad_request",
                            detail="post_logout_redirect_uri is not registered")

    session = await n.store.sessions.get(cookie, now=n.now()) if cookie else None
    confirmed = request.method == "POST" and cookie and same(params.get("csrf", ""),
                                                             _logout_csrf(n, cookie))
    if session is not None and not confirmed and not hint_names(n, hint, session):
        # RP-Initiated Logout §2: without a hint that names this browser's own session
        # (any other citizen's ID token, however validly signed, is no such hint) the
        # citizen is asked; an e-service cannot end somebody else's login.
        carry = [(k, v) for k, v in params.items() if k in (
            "post_logout_redirect_uri", "state", "ui_locales")]
        if client_id:
            carry.append(("client_id", client_id))
        return page("logout.html", locale=loc, request_id=http.request_id(request),
                    confirm=True, csrf=_logout_csrf(n, cookie), carry=carry,
                    headers={"Cache-Control": "no-store"})

    if target:
        query = {"state": params["state"]} if params.get("state") else {}
        response: Response = RedirectResponse(
            target + (("&" if "?" in target else "?") + urlencode(query) if query else ""),
            status_code=303)
    else:
        response = page("logout.html", locale=loc, request_id=http.request_id(request),
                        confirm=False)
    if cookie:
        await end_session(n, cookie, response, reference=http.request_id(request),
                          client_id=params.get("client_id", ""))
    http.clear_cookie(response, http.SESSION_COOKIE, secure=secure)
    return response

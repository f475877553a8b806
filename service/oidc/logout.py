"""Logout: RP-initiated (OpenID Connect RP-Initiated Logout 1.0) and back-channel
(OpenID Connect Back-Channel Logout 1.0) to every e-service in the SSO session.

The session is deleted and its grants revoked in the store (confirmed on a replica)
before anything is answered; logout tokens go out after the response.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

import httpx
import structlog
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from service import metrics
from service.crypto import same
from service.errors import PageError
from service.oidc.tokens import InvalidToken, logout_token, verify_id_token_hint
from service.records import Session
from service.state import Node, node
from service.web import http
from service.web.render import page

log = structlog.get_logger("idportal.logout")


async def end_session(n: Node, cookie: str, response: Response, *, notify: bool = True) -> \
        Session | None:
    """End the session behind ``cookie``; with ``notify`` revoke its grants and send
    back-channel logout tokens after ``response`` is sent."""
    session = await n.store.sessions.end(cookie)
    if session is None or not notify:
        return session
    await n.store.tokens.revoke_grants(session.grants)
    if session.clients:
        previous = response.background
        response.background = BackgroundTask(_notify_all, n, session, previous)
    log.info("logout", sid=session.sid, clients=len(session.clients))
    return session


async def _notify_all(n: Node, session: Session, previous: BackgroundTask | None) -> None:
    if previous is not None:
        await previous()
    for client_id in session.clients:
        client = n.registry.get(client_id)
        if client is None or not client.backchannel_logout_uri:
            continue
        token = logout_token(n.keys.current, issuer=n.settings.issuer, client_id=client_id,
                             sub=n.keys.current.subject(session.identity.personal_number),
                             sid=session.sid, now=n.now(), alg=client.id_token_alg)
        await deliver(n.http, client.backchannel_logout_uri, token, client_id)


async def deliver(http_client: httpx.AsyncClient, uri: str, token: str, client_id: str,
                  attempts: int = 2) -> bool:
    """POST the logout token (§2.5); a 200 or 204 is success. Bounded attempts."""
    for attempt in range(1, attempts + 1):
        try:
            resp = await http_client.post(uri, data={"logout_token": token})
            if resp.status_code in (200, 204):
                metrics.BACKCHANNEL.labels("ok").inc()
                return True
            outcome = f"http{resp.status_code}"
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        log.warning("backchannel_failed", client_id=client_id, attempt=attempt, outcome=outcome)
    metrics.BACKCHANNEL.labels("failed").inc()
    return False


def _logout_csrf(n: Node, cookie: str) -> str:
    return hmac.new(n.keys.current.subject_secret, b"logout|" + cookie.encode(),
                    hashlib.sha256).hexdigest()


async def end_session_endpoint(request: Request) -> Response:
    """``/end_session``: GET or POST with id_token_hint, post_logout_redirect_uri, state,
    client_id, ui_locales. Without a valid id_token_hint the citizen confirms first."""
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
    hint_ok = False
    if params.get("id_token_hint"):
        try:
            v = verify_id_token_hint(n.keys.current, params["id_token_hint"],
                                     issuer=n.settings.issuer, now=n.now())
        except InvalidToken:
            raise PageError("err_bad_request", detail="id_token_hint is not valid") from None
        aud = v.claims.get("aud")
        aud_id = aud if isinstance(aud, str) else aud[0] if isinstance(aud, list) and aud else ""
        if client_id and client_id != aud_id:
            raise PageError("err_bad_request", detail="client_id does not match id_token_hint")
        client_id = aud_id
        hint_ok = True

    target = params.get("post_logout_redirect_uri", "")
    if target:
        client = n.registry.get(client_id)
        if client is None or target not in client.post_logout_redirect_uris:
            raise PageError("err_bad_request",
                            detail="post_logout_redirect_uri is not registered")

    confirmed = request.method == "POST" and cookie and same(params.get("csrf", ""),
                                                             _logout_csrf(n, cookie))
    if cookie and not hint_ok and not confirmed:
        carry = [(k, v) for k, v in params.items() if k in (
            "post_logout_redirect_uri", "state", "client_id", "ui_locales")]
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
        await end_session(n, cookie, response)
    http.clear_cookie(response, http.SESSION_COOKIE, secure=secure)
    return response

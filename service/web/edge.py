"""The one ASGI middleware every request passes through.

It applies rules that live elsewhere: the request id and the request's log line and
metrics (``service.observability``; an incoming id only from a trusted proxy), the body
limit, the security headers and the rule that no redirect of ours leads to plain http
(``service.web.headers``), and it turns an exception into its error page
(``service.web.errorpages``: Starlette's ``ExceptionMiddleware`` does the same with
another layer and ``send`` wrapper). One layer with one ``send`` wrapper instead of four:
each layer costs every request (BENCHMARKS.md). Pure ASGI (not ``BaseHTTPMiddleware``,
which would break contextvars). What no handler takes goes on up to Starlette's
``ServerErrorMiddleware`` (a 500 page, and the traceback in the log).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.observability import begin_request, end_request
from service.web import i18n, proxies
from service.web.headers import (
    add_headers,
    body_too_large,
    no_plain_redirect,
    own_plain_origin,
    refuse_too_large,
    security_headers,
)
from service.web.http import LANG_COOKIE


def chosen_language(scope: Scope) -> bytes:
    """A ``Set-Cookie`` keeping the language the citizen chose (``?lang=``) for the
    following pages of the login ('' when none was chosen): a session cookie, read by
    ``http.locale`` before the e-service's ``ui_locales`` and the browser's languages."""
    for part in scope.get("query_string", b"").split(b"&"):
        key, _, value = part.partition(b"=")
        if key == b"lang" and value.decode("latin-1") in i18n.LOCALES:
            secure = "; Secure" if scope.get("scheme") == "https" or \
                dict(scope.get("headers", [])).get(b"x-forwarded-proto") == b"https" else ""
            return f"{LANG_COOKIE}={value.decode()}; Path=/; SameSite=Lax; HttpOnly{secure}" \
                .encode()
    return b""


Handler = Callable[[Request, Exception], Awaitable[Response]]


class Edge:
    def __init__(self, app: ASGIApp, *, node: str, hsts: bool, body_limit: int,
                 trusted_proxies: tuple[str, ...] = (), issuer: str = "",
                 handlers: Mapping[type[Exception], Handler] | None = None) -> None:
        self.app = app
        self.handlers = dict(handlers or {})
        self.node = node
        self.extra = security_headers(hsts=hsts)
        self.body_limit = body_limit
        self.proxies = proxies.trusted(trusted_proxies)
        self.own_http = own_plain_origin(issuer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        request_id = begin_request(scope, self.node, trust_incoming=bool(
            peer and self.proxies.trusts(peer[0])))
        started = time.perf_counter()
        status = 500
        id_header = (b"x-request-id", request_id.encode())
        chosen = chosen_language(scope)

        responded = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                headers = list(message.get("headers", []))
                if 300 <= status < 400 and self.own_http:
                    no_plain_redirect(headers, self.own_http)
                headers.append(id_header)
                if chosen:  # the citizen's choice stays for the rest of the login
                    headers.append((b"set-cookie", chosen))
                add_headers(headers, self.extra)
                message["headers"] = headers
            await send(message)

        try:
            if body_too_large(scope, self.body_limit):
                await refuse_too_large(send_wrapper, request_id)
            else:
                try:
                    await self.app(scope, receive, send_wrapper)
                except Exception as exc:
                    handler = self.handler_for(exc)
                    if handler is None or responded:
                        raise
                    response = await handler(Request(scope, receive), exc)
                    await response(scope, receive, send_wrapper)
                    exc.__traceback__ = None  # an exception kept for reuse must not grow
        finally:
            end_request(scope, status, time.perf_counter() - started)

    def handler_for(self, exc: Exception) -> Handler | None:
        """The handler of the exception's nearest class that has one (Starlette's rule)."""
        for cls in type(exc).__mro__:
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None

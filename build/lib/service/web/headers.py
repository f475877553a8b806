"""Security headers on every response, and a bound on request bodies (the rules; the
one middleware, ``service.web.edge.Edge``, applies them)."""

from __future__ import annotations

import json

from starlette.types import Scope, Send

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


def security_headers(*, hsts: bool) -> list[tuple[bytes, bytes]]:
    """The headers every response carries unless the handler set its own."""
    extra = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", CSP.encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if hsts:
        extra.append((b"strict-transport-security", b"max-age=31536000"))
    return extra


def add_headers(headers: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]) -> None:
    """Add ``extra`` and ``Cache-Control: no-store`` where the response has none."""
    present = {k.lower() for k, _ in headers}
    headers += [h for h in extra if h[0] not in present]
    if b"cache-control" not in present:
        headers.append((b"cache-control", b"no-store"))


def own_plain_origin(issuer: str) -> bytes:
    """``http://host[:port]`` of an https issuer: what a framework-made redirect would
    point at behind the TLS front door (the node itself speaks plain http). Empty for a
    plain-http issuer (development on loopback)."""
    if not issuer.startswith("https://"):
        return b""
    return ("http://" + issuer.removeprefix("https://").split("/", 1)[0]).encode()


def no_plain_redirect(headers: list[tuple[bytes, bytes]], own_http: bytes) -> None:
    """Rewrite a ``Location`` to our own host over plain http into a relative one.

    Behind the TLS front door no answer may send a browser to plain http. Our handlers
    never do; this catches what a framework does on its own (slash redirects, mounts)."""
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"location" and value.lower().startswith(own_http.lower()):
            rest = value[len(own_http):]
            if not rest.startswith(b"/") or rest.startswith(b"//"):
                rest = b"/" + rest.lstrip(b"/")
            headers[i] = (name, rest)


def body_too_large(scope: Scope, limit: int) -> bool:
    """A body over ``limit`` bytes by Content-Length (refused before any handler reads)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return not value.isdigit() or int(value) > limit
    return False


async def refuse_too_large(send: Send, request_id: str) -> None:
    body = json.dumps({"error": "invalid_request", "error_description": "request body too large",
                       "support_ref": request_id}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

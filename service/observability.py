"""Logs and request ids.

structlog is configured once; one JSON line per request (request id, route, client id,
status, duration) and one per login event. A redaction processor drops codes, tokens,
cookies, secrets and PINs, and masks personal numbers, wherever they appear in an event.
The request id is the support reference on every error page (``X-Request-ID``).
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from starlette.types import Scope

from service import metrics

_SECRET_KEYS = {"code", "access_token", "refresh_token", "id_token", "token", "pin",
                "password", "client_secret", "client_assertion", "cookie", "set-cookie",
                "authorization", "code_verifier", "id_token_hint", "logout_token",
                "qr_start_secret", "qrstartsecret", "secret"}
_PNR = re.compile(r"\b(19|20)(\d{2})(\d{4})[-+]?(\d{2})(\d{2})\b")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-_.]{8,64}$")


def mask_personal_numbers(text: str) -> str:
    return _PNR.sub(lambda m: f"{m.group(1)}{m.group(2)}****-**{m.group(5)}", text)


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Drop secrets by key; mask personal numbers in every string value."""
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
        elif isinstance(event[key], str):
            event[key] = mask_personal_numbers(event[key])
    return event


_CONFIGURED: list[tuple[str, str]] = []


def configure_logging(*, fmt: str = "json", level: str = "info") -> None:
    """Configure structlog once per process (loggers cache their processors on first use,
    so configuring again would leave them on the old chain)."""
    if _CONFIGURED and _CONFIGURED[-1] == (fmt, level):
        return
    _CONFIGURED.append((fmt, level))
    renderer: Any = (structlog.processors.JSONRenderer() if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.WriteLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )


def new_request_id() -> str:
    return secrets.token_hex(8)


_HTTP_LOG = structlog.get_logger("idportal.http")
_QUIET_ROUTES = frozenset({"healthz", "readyz", "metrics"})


def begin_request(scope: Scope, node: str, *, trust_incoming: bool = False) -> str:
    """The request's id, bound to every log line of this request and kept in the scope
    for error pages. An incoming ``X-Request-ID`` is taken only with ``trust_incoming``
    (the peer is our front door, which sets its own): a client-chosen one must never
    become the support reference."""
    incoming = ""
    if trust_incoming:
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
    request_id = incoming if _REQUEST_ID.match(incoming) else new_request_id()
    scope.setdefault("state", {})["request_id"] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, node=node)
    return request_id


_CHILDREN: dict[tuple[str, int], tuple[Any, Any]] = {}  # (route, status class) → metrics


def end_request(scope: Scope, status: int, elapsed: float) -> None:
    """One log line and the metrics of a finished request."""
    route = scope.get("route_name") or _route_of(scope)
    children = _CHILDREN.get((route, status // 100))
    if children is None:  # first of its kind: ``labels`` is a locked look-up, keep the result
        children = _CHILDREN[(route, status // 100)] = (
            metrics.REQUESTS.labels(route, f"{status // 100}xx"), metrics.LATENCY.labels(route))
    children[0].inc()
    children[1].observe(elapsed)
    if route not in _QUIET_ROUTES:
        _HTTP_LOG.info("request", method=scope["method"], route=route, status=status,
                       duration_ms=round(elapsed * 1000, 2))


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    name = getattr(route, "name", None)
    return str(name) if name else "unmatched"

"""Logs and request ids.

structlog is configured once; one JSON line per request (request id, route, client id,
status, duration) and one per login event. A redaction processor drops codes, tokens,
cookies, secrets and PINs, and masks personal numbers, wherever they appear in an event.
The standard library's records (the HTTP server, asyncio, httpx) go through the same
chain. The request id is the support reference on every error page (``X-Request-ID``).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import orjson
import structlog
from starlette.types import Scope

from service import metrics

_SECRET_KEYS = {"code", "access_token", "refresh_token", "id_token", "token", "pin",
                "password", "client_secret", "client_assertion", "cookie", "set-cookie",
                "authorization", "code_verifier", "id_token_hint", "logout_token",
                "qr_start_secret", "qrstartsecret", "secret", "login_hint",
                "personal_number", "personalnumber"}
# A personal number with its century: 12 digits, or 8 + separator + 4.
_PNR12 = re.compile(r"(?<!\d)(19|20)(\d{2})(\d{4})[-+]?(\d{2})(\d{2})(?!\d)")
# Without its century (YYMMDD-NNNC / YYMMDDNNNC): masked only when it is one (a real date
# or coordination day, and the Luhn check digit), so timestamps and ids stay readable.
_PNR10 = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})([-+]?)(\d{3})(\d)(?!\d)")
# Secrets that travel in URLs and forms: a request line or an error may quote them.
_SECRET_PARAM = re.compile(
    r"(?i)\b(code|access_token|refresh_token|id_token|id_token_hint|login_hint|logout_token"
    r"|token|client_secret|client_assertion|code_verifier|pin|personal_number)=[^&\s\"'<>]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# What every pattern above needs: a JWT starts with eyJ, a secret parameter has '=', a
# personal number has six digits in a row. A string with none of them is left as it is
# (most are: one search instead of four substitutions).
_SUSPECT = re.compile(r"eyJ|=|\d{6}")
# Values the node makes itself, never from a request: not scrubbed. (A request id is
# the node's own or its front door's, checked against _REQUEST_ID.)
_OWN_KEYS = frozenset({"level", "node", "request_id", "route", "status", "duration_ms"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-_.]{8,64}$")


def _luhn_ok(nine: str, check: str) -> bool:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10 == int(check)


def _mask10(m: re.Match[str]) -> str:
    yy, mm, dd, _, nnn, c = m.groups()
    day = int(dd) - 60 if int(dd) > 60 else int(dd)
    if not (1 <= int(mm) <= 12 and 1 <= day <= 31 and _luhn_ok(yy + mm + dd + nnn, c)):
        return m.group(0)
    return f"{yy}****-**{nnn[-1]}{c}"


def mask_personal_numbers(text: str) -> str:
    text = _PNR12.sub(lambda m: f"{m.group(1)}{m.group(2)}****-**{m.group(5)}", text)
    return _PNR10.sub(_mask10, text)


def scrub(text: str) -> str:
    """Everything that must never reach a log, out of one string: tokens (JWTs), secrets
    in query strings and forms, and personal numbers (masked)."""
    if _SUSPECT.search(text) is None:
        return text
    text = _JWT.sub("[jwt]", text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}=[redacted]", text)
    return mask_personal_numbers(text)


def _clean(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if depth > 8:
        return "[too deep]"
    if isinstance(value, dict):
        return {k: "[redacted]" if isinstance(k, str) and k.lower() in _SECRET_KEYS
                else _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_clean(v, depth + 1) for v in value]
    return value


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Drop secrets by key and scrub every string, at any depth. Runs after exception
    formatting, so a traceback's text is scrubbed too."""
    for key in list(event):
        if key in _OWN_KEYS:
            continue
        if key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
        else:
            event[key] = _clean(event[key])
    return event


# What every log line of this request (or task) carries: its request id, node, client.
# One context variable holding a mapping that is replaced, never changed, so a task
# started within a request sees the values of its start. structlog's contextvars keep a
# variable per key and copy the whole context to find them on every line (BENCHMARKS.md).
_NOTHING: Mapping[str, Any] = MappingProxyType({})
_BOUND: ContextVar[Mapping[str, Any]] = ContextVar("idportal_log_context", default=_NOTHING)


def bind(**values: Any) -> None:
    """Add ``values`` to every following log line of this request or task."""
    _BOUND.set({**_BOUND.get(), **values})


def clear_bound() -> None:
    _BOUND.set(_NOTHING)


def merge_bound(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The processor that puts the bound values into a line (the line's own win)."""
    for key, value in _BOUND.get().items():
        event.setdefault(key, value)
    return event


class UtcStamp:
    """The line's ``timestamp``: the UTC time in ISO 8601 to the microsecond
    (``2026-12-01T01:02:03.000456Z``), as structlog's ``TimeStamper(fmt="iso", utc=True)``
    writes it but always with its six digits, at a fifth of the CPU: the date and time up
    to the second are formatted once a second (a request writes one line or more)."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, _: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        second, ns = divmod(time.time_ns(), 1_000_000_000)
        if second != self._second:
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            self._second = second
        event["timestamp"] = f"{self._prefix}{ns // 1000:06d}Z"
        return event


_CONFIGURED: list[tuple[str, str]] = []
_REQUEST_LINE: list[tuple[list[Any], Any]] = []  # (the processors, the stream), when on
_STDLIB_HANDLER: list[logging.Handler] = []


def configure_logging(*, fmt: str = "json", level: str = "info") -> None:
    """Configure structlog once per process (loggers cache their processors on first use,
    so configuring again would leave them on the old chain), and send the standard
    library's records (the HTTP server's errors, asyncio, httpx) through the same chain:
    one JSON line each, redacted alike."""
    if _CONFIGURED and _CONFIGURED[-1] == (fmt, level):
        return
    _CONFIGURED.append((fmt, level))
    renderer: Any = (structlog.processors.JSONRenderer(serializer=_json) if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    shared: list[Any] = [
        merge_bound,
        structlog.processors.add_log_level,
    ]
    # Formatting first, redaction after: a traceback's text is scrubbed before output.
    # The time stamp comes after redaction: the node makes it, nothing to scrub.
    final: list[Any] = [structlog.processors.format_exc_info, redact, UtcStamp(), renderer]
    # The request line (one per request) runs the same chain without structlog's bound
    # logger around it: the line is the same, at half the CPU (BENCHMARKS.md).
    _REQUEST_LINE[:] = [([*shared, *final], sys.stdout)] \
        if getattr(logging, level.upper(), logging.INFO) <= logging.INFO else []
    structlog.configure(
        processors=[*shared, *final],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.WriteLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final]))
    root = logging.getLogger()
    for old in _STDLIB_HANDLER:
        root.removeHandler(old)
    _STDLIB_HANDLER[:] = [handler]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))


def _json(event: Any, **_: Any) -> str:
    """One log line (orjson: a tenth of the standard library's time for the same line);
    what it cannot encode is written as its ``str``."""
    return orjson.dumps(event, default=str).decode()


def new_request_id() -> str:
    return os.urandom(8).hex()


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
    _BOUND.set({"request_id": request_id, "node": node})
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
    if route not in _QUIET_ROUTES and _REQUEST_LINE:
        processors, stream = _REQUEST_LINE[0]
        event: Any = {"method": scope["method"], "route": route, "status": status,
                      "duration_ms": round(elapsed * 1000, 2), "event": "request"}
        for processor in processors:
            event = processor(None, "info", event)
        stream.write(event + "\n")
        stream.flush()


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    name = getattr(route, "name", None)
    return str(name) if name else "unmatched"

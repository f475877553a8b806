"""Request helpers at the edge: bounded parameter parsing, client address, cookies,
locale, JSON answers. Everything that reads raw input does it here, with limits."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import orjson
from starlette import responses
from starlette.requests import Request
from starlette.responses import Response

from service.errors import PageError
from service.web import i18n, proxies

MAX_PARAMS = 50


class JSONResponse(responses.JSONResponse):
    """Starlette's JSON answer, encoded with orjson (compact UTF-8, as Starlette's)."""

    def render(self, content: object) -> bytes:
        return orjson.dumps(content)

SESSION_COOKIE = "__Host-idp_session"
BROWSER_COOKIE = "__Host-idp_browser"
DEV_PREFIX = "idp_"  # cookie names on a plain-http loopback issuer (no __Host- there)


def _pairs(raw: str) -> list[tuple[str, str]]:
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=False,
                          max_num_fields=MAX_PARAMS, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise PageError("err_bad_request", detail="malformed parameters") from None
    return pairs


def _collect(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], set[str]]:
    params: dict[str, str] = {}
    repeated: set[str] = set()
    for k, v in pairs:
        if "\x00" in k or "\x00" in v:
            raise PageError("err_bad_request", detail="NUL in a parameter")
        if k in params:
            repeated.add(k)
        else:
            params[k] = v
    return params, repeated


def query(request: Request) -> tuple[dict[str, str], set[str]]:
    raw: bytes = request.scope.get("query_string", b"")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PageError("err_bad_request", detail="query string is not UTF-8") from None
    return _collect(_pairs(text))


async def form(request: Request, *, limit: int) -> tuple[dict[str, str], set[str]]:
    """An ``application/x-www-form-urlencoded`` body, at most ``limit`` bytes."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise PageError("err_bad_request", status=415,
                        detail="expected application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PageError("err_too_large", status=413)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PageError("err_bad_request", detail="body is not UTF-8") from None
    return _collect(_pairs(text))


def client_ip(request: Request, trusted_proxies: tuple[str, ...]) -> str:
    """The citizen's address: the peer, or the right-most X-Forwarded-For hop that is not
    one of ``trusted_proxies`` when the peer is one (``service.web.proxies``). Every
    X-Forwarded-For header counts: a proxy may add its own line after the client's."""
    peer = request.client.host if request.client else "127.0.0.1"
    return proxies.trusted(trusted_proxies).client(
        peer, request.headers.getlist("x-forwarded-for"))


def cookie_name(base: str, secure: bool) -> str:
    return base if secure else DEV_PREFIX + base.removeprefix("__Host-idp_")


def set_cookie(response: Response, base: str, value: str, *, secure: bool,
               max_age: int | None = None) -> None:
    """``__Host-`` cookies: Secure, Path=/, no Domain; HttpOnly; SameSite=Lax."""
    add_cookie(response, cookie_name(base, secure), value, path="/", secure=secure,
               max_age=max_age)


def clear_cookie(response: Response, base: str, *, secure: bool) -> None:
    add_cookie(response, cookie_name(base, secure), "", path="/", secure=secure, max_age=0)


_COOKIE_SAFE = re.compile(r"[A-Za-z0-9._~/-]*")


def add_cookie(response: Response, name: str, value: str, *, path: str, secure: bool,
               max_age: int | None) -> None:
    """One ``Set-Cookie`` (HttpOnly, SameSite=Lax, no Domain), written directly: the
    standard library's cookie classes cost more than the rest of a small answer. Names,
    values and paths are ours and URL-safe; anything else is a bug, refused."""
    if not (_COOKIE_SAFE.fullmatch(name) and _COOKIE_SAFE.fullmatch(value)
            and _COOKIE_SAFE.fullmatch(path)):
        raise ValueError(f"not a safe cookie: {name!r}")
    parts = [f"{name}={value}; Path={path}; HttpOnly; SameSite=Lax"]
    if max_age is not None:
        parts.append(f"; Max-Age={max_age}")
    if secure:
        parts.append("; Secure")
    response.raw_headers.append((b"set-cookie", "".join(parts).encode("latin-1")))


def get_cookie(request: Request, base: str, *, secure: bool) -> str:
    value = request.cookies.get(cookie_name(base, secure), "")
    return value if len(value) <= 128 else ""


LANG_COOKIE = "idp_lang"  # the language the citizen chose (the edge sets it on ?lang=)


def locale(request: Request, preferred: tuple[str, ...], default: str) -> str:
    """The page's language: the citizen's choice on this page (``?lang=``) or earlier in
    the login (the ``idp_lang`` cookie), then the e-service's ``ui_locales``, then the
    browser's languages."""
    # Parsed only when there (most pages have neither): a login's query string is long.
    if b"lang=" in request.scope.get("query_string", b""):
        chosen = request.query_params.get("lang", "")
        if chosen in i18n.LOCALES:
            return chosen
    if LANG_COOKIE in request.headers.get("cookie", ""):
        chosen = request.cookies.get(LANG_COOKIE, "")
        if chosen in i18n.LOCALES:
            return chosen
    return i18n.pick_locale(preferred, request.headers.get("accept-language", "")[:200], default)


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))

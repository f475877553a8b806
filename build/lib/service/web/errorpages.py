"""Every error becomes a clear answer with the support reference — never a stack trace.

Protocol endpoints answer JSON (RFC 6749 §5.2); pages answer HTML in the citizen's
language; a store outage answers 503 with Retry-After.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from service.errors import (
    AuthorizeError,
    BankIDError,
    BearerError,
    FrejaError,
    OAuthError,
    PageError,
    safe_description,
)
from service.store import StoreUnavailable
from service.web import i18n
from service.web.http import JSONResponse, locale, request_id
from service.web.render import page

log = structlog.get_logger("idportal.errors")
JSON_PATHS = ("/token", "/revoke", "/introspect", "/userinfo", "/jwks", "/.well-known",
              "/openapi.json", "/healthz", "/readyz")
NO_STORE = {"Cache-Control": "no-store"}
# Endpoints whose clients are OAuth libraries: every error there is an RFC 6749 §5.2 /
# RFC 7009 §2.2.1 / RFC 6750 §3.1 code with an ASCII description, never a house code.
OAUTH_PATHS = ("/token", "/revoke", "/introspect", "/userinfo")


def oauth_code(status: int) -> str:
    """The protocol's own name for a failure the framework or the edge raised."""
    if status >= 500:
        return "temporarily_unavailable" if status == 503 else "server_error"
    return "invalid_request"


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PATHS) or request.headers.get(
        "accept", "").startswith("application/json")


def _page(request: Request, key: str, status: int, detail: str = "",
          headers: dict[str, str] | None = None) -> Response:
    loc = locale(request, (), "sv")
    message = i18n.text(loc, key, detail=detail) if "{detail}" in i18n.text(
        loc, key) else i18n.text(loc, key)
    rid = request_id(request)
    if request.url.path.startswith(OAUTH_PATHS):
        english = i18n.text("en", key, detail=detail) if "{detail}" in i18n.text(
            "en", key) else i18n.text("en", key)
        return JSONResponse({"error": oauth_code(status),
                             "error_description": safe_description(detail or english),
                             "support_ref": rid},
                            status_code=status, headers={**NO_STORE, **(headers or {})})
    if wants_json(request):
        return JSONResponse({"error": key, "error_description": message, "support_ref": rid},
                            status_code=status, headers={**NO_STORE, **(headers or {})})
    return page("error.html", locale=loc, status=status, request_id=rid, message=message,
                headers={**NO_STORE, **(headers or {})})


def authorize_redirect(err: AuthorizeError, issuer: str) -> Response:
    params = {"error": err.error, "error_description": err.description, "iss": issuer}
    if err.state:
        params["state"] = err.state
    sep = "&" if "?" in err.redirect_uri else "?"
    return RedirectResponse(err.redirect_uri + sep + urlencode(params), status_code=303)


async def oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    log.info("oauth_error", error=exc.error, description=exc.description)
    if isinstance(exc, AuthorizeError):
        if exc.may_redirect:
            return authorize_redirect(exc, request.app.state.node.settings.issuer)
        return _page(request, "err_bad_request", 400, detail=exc.description)
    body: dict[str, Any] = {"error": exc.error, "error_description": exc.description,
                            "support_ref": request_id(request)}
    headers = dict(NO_STORE)
    if isinstance(exc, BearerError):
        headers["WWW-Authenticate"] = (f'Bearer error="{exc.error}", '
                                       f'error_description="{exc.description}"')
    elif exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="idportal"'
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return _page(request, exc.key, exc.status, detail=exc.detail)


async def store_unavailable(request: Request, exc: Exception) -> Response:
    log.error("store_unavailable_response")
    return _page(request, "err_store", 503, headers={"Retry-After": "5"})


async def bankid_error(request: Request, exc: Exception) -> Response:
    log.warning("bankid_error", code=getattr(exc, "code", ""))
    return _page(request, "err_bankid", 503, headers={"Retry-After": "10"})


async def freja_error(request: Request, exc: Exception) -> Response:
    log.warning("freja_error", code=getattr(exc, "code", ""))
    return _page(request, "err_freja", 503, headers={"Retry-After": "10"})


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    key = {404: "err_not_found", 405: "err_method", 413: "err_too_large"}.get(
        exc.status_code, "err_bad_request")
    return _page(request, key, exc.status_code, detail=str(exc.detail)[:100])


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled_error", error=type(exc).__name__)
    return _page(request, "err_internal", 500)


HANDLERS: dict[Any, Any] = {
    OAuthError: oauth_error,
    PageError: page_error,
    StoreUnavailable: store_unavailable,
    BankIDError: bankid_error,
    FrejaError: freja_error,
    HTTPException: http_error,
    Exception: unexpected,
}

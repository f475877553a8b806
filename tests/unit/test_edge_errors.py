"""The node's two layers (``service.app.NodeApp``): ``Edge`` turns a handled error into
its page with the support reference and the security headers, as Starlette's
``ExceptionMiddleware`` did; an error after the answer began is not answered twice; an
unexpected one is a 500 page without a trace of the code."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.app import NodeApp
from service.errors import BearerError, PageError
from service.web.routing import IndexedRouter


async def page_error(request: Request) -> Response:
    raise PageError("err_bad_request", status=400, detail="something the citizen sent")


async def bearer_error(request: Request) -> Response:
    raise BearerError("invalid_token", "the access token is not valid")


async def unexpected(request: Request) -> Response:
    raise ZeroDivisionError("secret internals")


def sync_endpoint(request: Request) -> Response:
    raise PageError("err_not_found", status=404)


async def half(request: Request) -> Response:
    class Half(Response):
        async def __call__(self, scope: object, receive: object, send: object) -> None:
            await send({"type": "http.response.start", "status": 200,  # type: ignore[operator]
                        "headers": [(b"content-length", b"10")]})
            raise PageError("err_bad_request", status=400)
    return Half()


ROUTES = [Route("/page", page_error), Route("/userinfo", bearer_error),
          Route("/boom", unexpected), Route("/sync", sync_endpoint), Route("/half", half)]


def _app() -> NodeApp:
    app = NodeApp(routes=ROUTES, edge={"node": "n1", "hsts": True, "body_limit": 65536})
    app.router = IndexedRouter(ROUTES, redirect_slashes=False)
    return app


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(), raise_app_exceptions=False),
                             base_url="https://idp.test")


def _edge_headers(r: httpx.Response) -> None:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" in r.headers
    assert len(r.headers["x-request-id"]) == 16


@pytest.mark.parametrize("path", ["/page", "/sync", "/nope"])
async def test_a_handled_error_is_its_page_with_the_support_reference_and_edge_headers(
        path: str) -> None:
    async with _client() as c:
        r = await c.get(path)
    assert r.status_code in (400, 404)
    _edge_headers(r)
    assert r.headers["x-request-id"] in r.text  # the reference the citizen quotes


async def test_a_protocol_error_is_json_with_its_challenge() -> None:
    async with _client() as c:
        r = await c.get("/userinfo")
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    _edge_headers(r)


async def test_a_wrong_method_is_a_405_page() -> None:
    async with _client() as c:
        r = await c.post("/page")
    assert r.status_code == 405
    _edge_headers(r)


async def test_an_unexpected_error_is_a_500_page_without_the_code_behind_it() -> None:
    async with _client() as c:
        r = await c.get("/boom")
    assert r.status_code == 500
    assert "secret internals" not in r.text and "Traceback" not in r.text
    assert "ZeroDivisionError" not in r.text


async def test_an_error_after_the_answer_began_is_not_answered_a_second_time() -> None:
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/half", "raw_path": b"/half",
             "query_string": b"", "headers": [], "scheme": "https", "server": ("idp.test", 443),
             "client": ("127.0.0.1", 1), "root_path": "", "http_version": "1.1",
             "asgi": {"version": "3.0"}}
    with pytest.raises(PageError):
        await _app()(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start"]

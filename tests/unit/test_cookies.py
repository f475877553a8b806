"""The node's Set-Cookie headers (service/web/http.py), written without the standard
library's cookie classes: the attributes every cookie needs, and nothing a value could
smuggle in."""

from __future__ import annotations

import pytest
from starlette.responses import Response

from service.web import http


def test_a_session_cookie_carries_every_attribute() -> None:
    r = Response()
    http.set_cookie(r, http.SESSION_COOKIE, "AbC-_.9", secure=True, max_age=60)
    assert r.headers["set-cookie"] == (
        "__Host-idp_session=AbC-_.9; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure")


def test_clearing_a_cookie_sends_it_empty_with_max_age_zero() -> None:
    r = Response()
    http.clear_cookie(r, http.SESSION_COOKIE, secure=True)
    assert r.headers["set-cookie"].startswith("__Host-idp_session=; Path=/;")
    assert "Max-Age=0" in r.headers["set-cookie"]


@pytest.mark.parametrize(("name", "value", "path"), [
    ("a", "b; Domain=evil", "/"), ("a;b", "c", "/"), ("a", "b", "/\r\nX: y"), ("a", 'b"', "/"),
    ("a", "b c", "/")])
def test_a_cookie_with_anything_but_url_safe_parts_is_refused(name: str, value: str,
                                                              path: str) -> None:
    with pytest.raises(ValueError, match="not a safe cookie"):
        http.add_cookie(Response(), name, value, path=path, secure=True, max_age=None)

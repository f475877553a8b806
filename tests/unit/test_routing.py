"""The indexed router picks, for every route and method, the route Starlette's own
order picks; what it cannot match goes to that order (405, 404, static files)."""

from __future__ import annotations

import pytest
from starlette.routing import Match, Route, Router

from service.app import ROUTES
from service.web.routing import IndexedRouter, template

METHODS = ("GET", "POST", "PUT", "DELETE")


def linear(path: str, method: str) -> object:
    """What Starlette's loop picks: the first full match, else the first partial."""
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    partial = None
    for route in Router(ROUTES).routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def test_every_route_and_method_is_matched_as_starlettes_order_matches_it() -> None:
    router = IndexedRouter(ROUTES)
    paths = [r.path.replace("{tx}", "AbC-123_x") for r in ROUTES if isinstance(r, Route)]
    for path in [*paths, "/login/x", "/login/x/", "/login//bankid", "/nowhere", "/static/x.css"]:
        for method in METHODS:
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            indexed = router.index.get(template(path))
            chosen = indexed if indexed is not None and \
                indexed.matches(scope)[0] is Match.FULL else linear(path, method)
            assert chosen is linear(path, method), (path, method)


@pytest.mark.parametrize(("path", "expected"), [
    ("/login/abc", "/login/{tx}"), ("/login/abc/bankid/collect", "/login/{tx}/bankid/collect"),
    ("/login/", "/login/{tx}"), ("/token", "/token"), ("/loginx/a", "/loginx/a")])
def test_a_path_becomes_its_routes_template(path: str, expected: str) -> None:
    assert template(path) == expected

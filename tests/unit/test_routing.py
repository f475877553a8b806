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
            hit = router.found(scope)
            chosen = hit[0] if hit is not None else linear(path, method)
            assert chosen is linear(path, method), (path, method)


def test_a_page_and_its_form_on_one_path_are_both_found_by_the_index() -> None:
    router = IndexedRouter(ROUTES)
    for path, method, name in (("/login/AbC/pin", "GET", "pin_page"),
                               ("/login/AbC/pin", "POST", "pin_submit"),
                               ("/login/AbC/context", "POST", "login_context_choose")):
        hit = router.found({"type": "http", "path": path, "method": method, "root_path": ""})
        assert hit is not None and hit[0].name == name, (path, method)


@pytest.mark.parametrize(("path", "expected"), [
    ("/login/abc", "/login/{tx}"), ("/login/abc/bankid/collect", "/login/{tx}/bankid/collect"),
    ("/login/", "/login/{tx}"), ("/token", "/token"), ("/loginx/a", "/loginx/a")])
def test_a_path_becomes_its_routes_template(path: str, expected: str) -> None:
    assert template(path) == expected

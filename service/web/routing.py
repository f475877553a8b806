"""Starlette's router with the routes found by their path in a dict.

Starlette tries each route's pattern in turn: the login's own routes, near the top of
forty, cost a BankID login about 35 µs. Here a request's path is first turned into the
route's own template (``/login/<id>/bankid/collect`` → ``/login/{tx}/bankid/collect``;
every other path is its own) and looked up; only that route's pattern is tried. Any
request the look-up does not fully match (another method, a path of no route, a static
file) goes to Starlette's loop as before, so the answer is always the one Starlette's
order gives (``tests/unit/test_routing.py`` checks every route).

A route found so whose endpoint is a coroutine function is called directly: the
request, the endpoint's response, sent. Starlette's ``Route.handle`` would wrap it in
two more closures and a ``send`` wrapper that catches exceptions for handlers the node
keeps in ``Edge`` (``service.web.edge``), where an exception from here lands alike.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

LOGIN = "/login/"


def template(path: str) -> str:
    """The route template a request path would have, if it is one of ours."""
    if path.startswith(LOGIN):
        _, slash, rest = path[len(LOGIN):].partition("/")
        return LOGIN + "{tx}" + slash + rest
    return path


class IndexedRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute], **kwargs: Any) -> None:
        super().__init__(routes, **kwargs)
        # A path's routes in Starlette's order (a page and its form share a path: GET
        # and POST); the first that fully matches is the one Starlette's loop takes.
        self.index: dict[str, tuple[Route, ...]] = {}
        self.direct: set[int] = set()  # ids of the routes called directly (not hashable)
        for route in self.routes:
            if isinstance(route, Route):
                self.index[route.path] = (*self.index.get(route.path, ()), route)
                if inspect.iscoroutinefunction(route.endpoint):
                    self.direct.add(id(route))

    def found(self, scope: Scope) -> tuple[Route, Scope] | None:
        """The route the path's template names that fully matches, with its child scope."""
        for route in self.index.get(template(scope["path"]), ()):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return route, child_scope
        return None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hit = self.found(scope)
            if hit is not None:
                route, child_scope = hit
                scope.setdefault("router", self)
                scope["route"] = route
                scope.update(child_scope)
                if id(route) in self.direct:
                    response = await route.endpoint(Request(scope, receive, send))
                    await response(scope, receive, send)
                else:
                    await route.handle(scope, receive, send)
                return
        await super().app(scope, receive, send)

"""Help pages for the common problems and the accessibility statement: reachable from
every page's footer (``Settings.help`` can point elsewhere), in Swedish and English."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.errors import PageError
from service.state import node
from service.web import http
from service.web.render import page

TOPICS = ("no-bankid", "locked-pin", "wrong-personal-number", "card-not-accepted")


def _locale(request: Request) -> str:
    return http.locale(request, (), node(request).settings.default_locale)


async def help_page(request: Request) -> Response:
    topic = request.path_params.get("topic", "")
    if topic and topic not in TOPICS:
        raise PageError("err_not_found", status=404)
    loc = _locale(request)
    path = f"/help/{topic}" if topic else "/help"
    return page("help.html", locale=loc, request_id=http.request_id(request), topic=topic,
                topics=TOPICS, switch_url=f"{path}?lang={'en' if loc == 'sv' else 'sv'}")


async def accessibility(request: Request) -> Response:
    loc = _locale(request)
    return page("accessibility.html", locale=loc, request_id=http.request_id(request),
                switch_url=f"/accessibility?lang={'en' if loc == 'sv' else 'sv'}")


ROUTES = (
    Route("/help", help_page, name="help"),
    Route("/help/{topic}", help_page, name="help_topic"),
    Route("/accessibility", accessibility, name="accessibility"),
)

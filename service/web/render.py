"""HTML rendering (Jinja2, autoescaped) and the headers every page carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from service.web import i18n

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True,
    auto_reload=False,  # templates ship with the code: no stat() per page
)


def configure_site(*, help_url: str, contact: str, accessibility_url: str) -> None:
    """What every page's footer shows (``Settings.help``); set once by the app factory."""
    _ENV.globals["site"] = {"help_url": help_url, "contact": contact,
                            "accessibility_url": accessibility_url}


configure_site(help_url="/help", contact="", accessibility_url="/accessibility")


# The e-service's userMessage in text/markdown: CommonMark without raw HTML, links or
# images (the citizen is logging in; a message is text to read, not somewhere to go).
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).disable(
    ["link", "image", "autolink", "html_inline", "html_block"])


def user_message_html(text: str, *, markdown: bool) -> Markup:
    """An e-service's message, safe to put in a page: Markdown rendered without HTML,
    links or images, or plain text escaped with its line breaks kept."""
    if markdown:
        tokens = _MARKDOWN.parse(text)
        for token in tokens:  # the page has its own h1: the message's headings go below it
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        # markdown-it escapes all text; raw HTML is off, so the output is ours alone.
        return Markup(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {}))  # noqa: S704
    return Markup("<p>") + Markup("<br>").join(escape(line) for line in text.splitlines()) + \
        Markup("</p>")


def html(template: str, *, locale: str, request_id: str = "", **context: Any) -> str:
    """A template rendered in ``locale`` (a page, or a letter written to a file)."""
    def t(key: str, **params: str) -> str:
        return i18n.text(locale, key, **params)

    return _ENV.get_template(template).render(t=t, locale=locale, request_id=request_id,
                                              **context)


def page(template: str, *, locale: str, status: int = 200, request_id: str = "",
         headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    return HTMLResponse(html(template, locale=locale, request_id=request_id, **context),
                        status_code=status, headers=headers)

"""HTML rendering (Jinja2, autoescaped) and the headers every page carries."""

from __future__ import annotations

import re
from collections import OrderedDict
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


# The login's own pages are rendered once per shape and then filled in. A shape is the
# page with every value that differs from login to login (``FILLED``) replaced by a
# marker; it is kept per template, language and the other values (the e-service's name,
# the ways in, the status message), which repeat. Filling in a value escapes it as the
# template's autoescaping would: the page is the same, byte for byte, as rendering it
# (tests/unit/test_page_shapes.py), in a twentieth of the time. Only these pages, which
# use those values plainly (printed, or tested for being set): a template that did more
# with one (compared it, filtered it) would leave a marker broken, and is then always
# rendered in full.
SHAPED = frozenset({"choose.html", "bankid.html", "freja.html", "pin.html"})
# Also what may name a citizen (a pre-filled number, an error quoting what they typed, an
# e-service's message to them): filled in, never part of a kept shape's key.
FILLED = frozenset({"tx_id", "csrf", "request_id", "switch_url", "qr_n", "autostart",
                    "personal_number", "error", "user_message"})
_MARK = "\ue000{}\ue001"
_MARKS = re.compile("\ue000([a-z_]+)\ue001")
_SHAPES: OrderedDict[tuple[Any, ...], tuple[str, ...] | None] = OrderedDict()
_MAX_SHAPES = 512
_SIMPLE = (str, int, float, bool, type(None))


def configure_site(*, help_url: str, contact: str, accessibility_url: str) -> None:
    """What every page's footer shows (``Settings.help``); set once by the app factory."""
    _ENV.globals["site"] = {"help_url": help_url, "contact": contact,
                            "accessibility_url": accessibility_url}
    _SHAPES.clear()


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


def _key(template: str, locale: str, context: dict[str, Any]) -> tuple[Any, ...] | None:
    """The shape's key: the template, the language, the values not filled in, and which
    filled-in ones are set (an empty one can change the page). None: not kept."""
    key: list[Any] = [template, locale]
    for name in sorted(context):
        value = context[name]
        if name in FILLED:
            key.append((name, bool(value)))
        elif isinstance(value, _SIMPLE):
            key.append((name, value))
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            key.append((name, tuple(value)))
        else:
            return None  # a dict, a list of records: rendered every time
    return tuple(key)


def _shape(template: str, locale: str, context: dict[str, Any]) -> tuple[str, ...] | None:
    """The page with markers, split at them: text, name, text, name, … text."""
    marked = {k: _MARK.format(k) if k in FILLED and v else v for k, v in context.items()}
    try:
        text = html(template, locale=locale, **marked)
    except Exception:  # a value used as more than text: this page is rendered in full
        return None
    parts = tuple(_MARKS.split(text))
    if any("\ue000" in p or "\ue001" in p for p in parts[::2]):
        return None  # a marker was cut or changed by a filter
    return parts


def shaped_html(template: str, *, locale: str, request_id: str = "", **context: Any) -> str:
    """``html``, from the page's shape when it has one."""
    context["request_id"] = request_id
    key = _key(template, locale, context) if template in SHAPED else None
    if key is None:
        return html(template, locale=locale, **context)
    if key in _SHAPES:
        _SHAPES.move_to_end(key)
        parts = _SHAPES[key]
    else:
        parts = _SHAPES[key] = _shape(template, locale, context)
        if len(_SHAPES) > _MAX_SHAPES:
            _SHAPES.popitem(last=False)
    if parts is None:
        return html(template, locale=locale, **context)
    out = list(parts)
    for i in range(1, len(out), 2):
        out[i] = escape(context[out[i]])
    return "".join(out)


def page(template: str, *, locale: str, status: int = 200, request_id: str = "",
         headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    return HTMLResponse(shaped_html(template, locale=locale, request_id=request_id, **context),
                        status_code=status, headers=headers)

"""HTML rendering (Jinja2, autoescaped) and the headers every page carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from service.web import i18n

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True,
    auto_reload=False,  # templates ship with the code: no stat() per page
)


def page(template: str, *, locale: str, status: int = 200, request_id: str = "",
         headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    def t(key: str, **params: str) -> str:
        return i18n.text(locale, key, **params)

    html = _ENV.get_template(template).render(t=t, locale=locale, request_id=request_id,
                                              **context)
    return HTMLResponse(html, status_code=status, headers=headers)

"""The app as a module-level ASGI callable, for servers started by import path
(``uvicorn service.asgi:app``, ``granian --interface asgi service.asgi:app``). Settings
come from ``IDPORTAL_CONFIG`` and ``IDPORTAL_*``; ``idportal serve`` is the normal way."""

from __future__ import annotations

from service.app import create_app
from service.serve import settle_heap
from service.settings import load_settings

app = create_app(load_settings())
settle_heap()

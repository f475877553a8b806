"""A real auth node (``idportal serve``) with one more route, ``/crash``, whose handler
raises an exception that names a personal number: what a bug in a handler would do.
The log tests run it beside the cluster and look for the number in every log file.

    python -m tests.helpers.crashing_node --config FILE serve --bind 127.0.0.1:PORT
"""

from __future__ import annotations

import sys

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import app as appmod
from service import cli

PNR = "197010632391"  # REFERENCE.md: a valid samordningsnummer


async def crash(request: Request) -> Response:
    raise RuntimeError(f"no register entry for {PNR} (or {PNR[2:]}), pin=4711")


appmod.ROUTES.insert(0, Route("/crash", crash))

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))

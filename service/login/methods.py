"""The ways in, behind one seam: each login method's module brings its own pages
(``ROUTES``, under ``/login/{tx}/<method>``) and a button for the method page
(``web/templates/_method_<method>.html``); the level each reaches is
``loa.METHOD_RANK``; which ones an e-service offers is its ``methods`` in the clients
file, filtered by the level it needs (``loa.methods_for``). Adding a way in touches none
of the endpoints: a module with its pages, its name and level in ``loa``, its button.
"""

from __future__ import annotations

from types import ModuleType

from starlette.routing import BaseRoute

from service import loa
from service.login import bankid, freja, pin, smartcard

MODULES: dict[str, ModuleType] = {"bankid": bankid, "freja": freja, "pin": pin,
                                  "smartcard": smartcard}


def routes() -> list[BaseRoute]:
    """The pages of every way in, the strongest first."""
    return [route for name in loa.METHODS for route in MODULES[name].ROUTES]

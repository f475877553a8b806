"""The ways in, behind one seam.

A way in is a module of ``service/login`` with:

- ``NAME``: its name in ``loa.METHODS`` (its highest level in ``loa.METHOD_RANK``) and in
  the clients file's ``methods``;
- ``ROUTES``: its pages, under ``/login/{tx}/<NAME>`` (the smart card's one step on its
  own listener apart), covering the method's life cycle:

  ============  ==========================  ============================  =============
  method        start                       poll / complete               cancel
  ============  ==========================  ============================  =============
  bankid        POST …/bankid/start         POST …/bankid/collect         …/bankid/cancel
  freja         POST …/freja/start          POST …/freja/collect          …/freja/cancel
  pin           (the form on the methods)   POST …/pin                    back link
  smartcard     GET …/smartcard → listener  GET …/smartcard/done          back link
  ============  ==========================  ============================  =============

- its result: a ``login.proof.Proof`` (the person, the level reached, the method's
  evidence), handed to ``flow.complete``, the one way a login ends;
- its button on the method page: ``web/templates/_method_<NAME>.html``;
- if it needs configuration, its switch in ``Settings.methods_available``.

Which ways in an e-service offers is its ``methods`` in the clients file, filtered by
what this deployment has configured and by the level the login needs
(``flow.methods_of``). Adding a way in touches none of the endpoints: a module, its
name and level in ``loa``, its button, and its line below.
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

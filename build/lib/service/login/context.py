"""Whom a representative acts for: after a login (or, with ``prompt=select_account``, on
SSO) at an e-service with organisation context, the citizen chooses themself or one of
the organisations the representation register lets them act for. The choice is explicit
and kept per e-service in the SSO session; an e-service in personal context never gets
organisation claims.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.errors import PageError
from service.login import flow
from service.login.transaction import Transaction
from service.records import Identity
from service.state import Node, node
from service.store.counters import PinAttempt
from service.web import http
from service.web.render import page


def _proven(tx: Transaction) -> Identity:
    if not tx.proven:
        raise PageError("err_tx_expired", status=410)
    return Identity.from_json(tx.proven)


def _page(request: Request, n: Node, tx: Transaction, identity: Identity) -> Response:
    loc = flow.page_locale(request, n, tx)
    client = n.registry.get(tx.request.client_id)
    choices = [(r.org_number, r.org_name, f"{r.org_number[:6]}-{r.org_number[6:]}")
               for r in flow.organisations(n, identity)]
    return page("context.html", locale=loc, request_id=http.request_id(request),
                tx_id=tx.tx_id, csrf=tx.csrf, choices=choices, person=identity.name,
                client_name=client.name if client else "",
                switch_url=f"/login/{tx.tx_id}/context?lang={'en' if loc == 'sv' else 'sv'}")


async def show(request: Request) -> Response:
    """GET /login/{tx}/context: the choice."""
    n = node(request)
    tx = await flow.guard(request, request.path_params["tx"])
    return _page(request, n, tx, _proven(tx))


async def choose(request: Request) -> Response:
    """POST /login/{tx}/context: ``context`` is "self" or an organisation number the
    citizen may act for; anything else is refused."""
    n = node(request)
    form, _ = await http.form(request, limit=n.settings.max_body_bytes)
    tx = await flow.guard(request, request.path_params["tx"], csrf=form.get("csrf", ""))
    identity = _proven(tx)
    context = form.get("context", "")
    if context != "self" and flow.organisation(n, identity, context) is None:
        raise PageError("err_tx_expired", status=403)
    pin = PinAttempt(**json.loads(tx.pin)) if tx.pin else None
    return await flow.complete(request, n, tx, identity, pin=pin, context=context)


ROUTES = (
    Route("/login/{tx}/context", show, name="login_context"),
    Route("/login/{tx}/context", choose, methods=["POST"], name="login_context_choose"),
)

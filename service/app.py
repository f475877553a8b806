"""The app factory: routes and middleware, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from service import audit_shipping, health, pin_admin, pin_pages, selfservice
from service.endpoints import (
    authorize,
    discovery,
    end_session,
    introspect,
    openapi,
    revoke,
    token,
    userinfo,
)
from service.login import context, flow, methods
from service.observability import configure_logging
from service.oidc import clients as clientsmod
from service.providers import pin_hashes, pin_register
from service.providers.bankid_client import BankIDClient
from service.providers.freja_client import FrejaClient
from service.providers.representation import Representations
from service.settings import Settings
from service.sso import backchannel
from service.state import Node, SigningKeys
from service.store import open_store
from service.web import devices, help, render
from service.web.edge import Edge
from service.web.errorpages import HANDLERS, unexpected
from service.web.routing import IndexedRouter

STATIC = Path(__file__).parent / "web" / "static"

ROUTES = [
    Route("/.well-known/openid-configuration", discovery.configuration, name="discovery"),
    Route("/jwks", discovery.jwks, name="jwks"),
    Route("/openapi.json", openapi.openapi, name="openapi"),
    Route("/authorize", authorize.authorize, methods=["GET", "POST"], name="authorize"),
    Route("/token", token.token, methods=["POST"], name="token"),
    Route("/userinfo", userinfo.userinfo, methods=["GET", "POST"], name="userinfo"),
    Route("/end_session", end_session.end_session_endpoint, methods=["GET", "POST"],
          name="end_session"),
    Route("/revoke", revoke.revoke, methods=["POST"], name="revoke"),
    Route("/introspect", introspect.introspect, methods=["POST"], name="introspect"),
    Route("/login/{tx}", flow.choose, name="login_choose"),
    Route("/login/{tx}/cancel", flow.cancel, methods=["POST"], name="login_cancel"),
    # Starlette tries routes in order: the login's own come before the rarer pages.
    *methods.routes(),  # each way in brings its own pages (service/login/methods.py)
    *context.ROUTES,  # whom a representative acts for
    *help.ROUTES,  # help pages and the accessibility statement
    *selfservice.ROUTES,  # "Mina inloggningar": a citizen's own page
    *pin_pages.ROUTES,  # choosing a PIN with a letter's activation code
    Route("/healthz", health.healthz, name="healthz"),
    Route("/readyz", health.readyz, name="readyz"),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]


def build_node(settings: Settings) -> Node:
    """Everything that can fail at start-up fails here, before the server listens."""
    keys = SigningKeys(Path(settings.keys_dir), publish_for=settings.lifetimes.key_publication)
    keys.reload_if_changed()
    return Node(
        settings=settings,
        store=open_store(settings),
        registry=clientsmod.load(settings.clients_file).with_self_service(settings.issuer),
        keys=keys,
        bankid=BankIDClient(settings.bankid),
        pins=pin_hashes.PinHasher(pin_hashes.hasher(settings.pin)),
        pin_seed=pin_register.read(settings.pin.register_file)
        if settings.pin.register_file else [],
        http=httpx.AsyncClient(timeout=settings.backchannel_timeout_s, follow_redirects=False,
                               verify=_backchannel_tls(settings)),
        representations=_representations(settings),
        freja=FrejaClient(settings.freja) if settings.freja.base_url else None,
        clients_mtime=Path(settings.clients_file).stat().st_mtime,
    )


def _representations(settings: Settings) -> Representations:
    held = Representations(Path(settings.representation_file))
    held.reload_if_changed()  # a broken register fails the start, not a login
    return held


def _backchannel_tls(settings: Settings) -> ssl.SSLContext:
    """TLS toward e-services' back-channel endpoints: the configured CA bundle, else the
    system's. Verification is never off."""
    return ssl.create_default_context(cafile=settings.backchannel_ca_file or None)


def create_app(settings: Settings, *, node: Node | None = None) -> Starlette:
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    render.configure_site(help_url=settings.help.url, contact=settings.help.contact,
                          accessibility_url=settings.help.accessibility_statement_url)
    the_node = node or build_node(settings)
    devices.warm()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await pin_admin.import_at_start(the_node)
        watcher = asyncio.create_task(health.watch(the_node))
        deliveries = asyncio.create_task(backchannel.poll(the_node))
        auditing = asyncio.create_task(audit_shipping.run(the_node))
        try:
            yield
        finally:
            the_node.draining = True
            await backchannel.stop(deliveries)
            for task in (watcher, auditing):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await the_node.bankid.close()
            if the_node.freja is not None:
                await the_node.freja.close()
            await the_node.http.aclose()
            await the_node.store.close()

    app = NodeApp(
        routes=ROUTES,
        edge={"node": settings.node_name, "hsts": settings.cookie_secure,
              "body_limit": settings.max_body_bytes,
              "trusted_proxies": settings.trusted_proxies, "issuer": settings.issuer},
        lifespan=lifespan,
    )
    # A trailing-slash redirect would be built from the node's own view (plain http):
    # no path of ours has two spellings, so a wrong one is a 404, not a redirect.
    app.router = IndexedRouter(ROUTES, lifespan=lifespan, redirect_slashes=False)
    app.state.node = the_node
    return app


class NodeApp(Starlette):
    """Starlette with two layers instead of four: ``ServerErrorMiddleware`` (the last
    resort: a 500 page and the traceback logged) around ``Edge``, which turns every
    other error into its page (``HANDLERS``) itself, around the router. Starlette's own
    stack would add its ``ExceptionMiddleware`` with one more ``send`` wrapper, which
    each request pays for (BENCHMARKS.md)."""

    def __init__(self, *, edge: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.edge = edge

    def build_middleware_stack(self) -> ASGIApp:
        handlers = {cls: h for cls, h in HANDLERS.items() if cls is not Exception}
        return ServerErrorMiddleware(Edge(self.router, handlers=handlers, **self.edge),
                                     handler=unexpected)

"""Run one auth node, with a graceful drain on SIGTERM/SIGINT.

On the signal the node first reports not-ready (``/readyz`` 503) for ``drain_s`` so
the load balancer stops sending new requests, then the server finishes the requests
in flight and exits: a rolling restart loses nothing.

The server is Uvicorn with its C HTTP parser (httptools), the default: behind HAProxy a
node speaks only HTTP/1.1, and Uvicorn costs it about a quarter less CPU per login
(BENCHMARKS.md, "The cost of the server"). Hypercorn (the design card's first choice:
HTTP/1.1 and h2, TLS) is the other. Both get the same drain, the same limits on waiting
and on the request head, and the same headers: no ``Server``, no proxy headers trusted
by the server (the app decides which ``X-Forwarded-For`` to believe).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import uvicorn
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from service import health, tls
from service.app import build_node, create_app
from service.oidc.clients import ClientsError
from service.oidc.keyring import KeysMissing
from service.providers.pin_register import RegisterError
from service.settings import DEFAULT_SERVER, SERVERS, Settings
from service.state import Node
from service.uvicorn_protocol import BoundedHttpTools

# What build_node raises for configuration the node cannot use (the settings themselves
# are checked before, with every problem listed at once).
StartupError = (ClientsError, RegisterError, KeysMissing)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (a dependency): measurably less CPU per request."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        return None
    return uvloop.new_event_loop


# With CPython's default thresholds (700, 10, 10) the collector runs many times a second
# under load, and its older generations walk everything start-up made. Eight runs in
# ABBA order (BENCHMARKS.md): a median of 148 BankID logins/s per core against 134.
GC_THRESHOLDS = (50_000, 20, 100)


def settle_heap() -> None:
    """Call once the app is built: what start-up made (routes, templates, keys, the
    clients and the PIN register) lives as long as the process, so it is moved out of
    the collector's way (``gc.freeze``), and the young generation is collected less
    often. Cycles are still collected; only later."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_until_signal(app: object, config: Config) -> None:
    """Serve ``app`` under Hypercorn until SIGTERM or SIGINT (the simulator and the demo
    e-services; the node itself drains first, see ``run``)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await hypercorn_serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    asyncio.run(main())


GRACEFUL_S = 10.0  # the longest a request in flight is awaited after the drain
KEEP_ALIVE_S = 75.0  # longer than HAProxy's idle timeout: HAProxy closes first
BACKLOG = 1024


async def run(settings: Settings, *, bind: str, certfile: str = "", keyfile: str = "",
              drain_s: float = 0.0, access_log: bool = False, server: str = DEFAULT_SERVER,
              metrics_bind: str = "") -> None:
    if server not in SERVERS:
        raise ValueError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")
    node = build_node(settings)
    app = create_app(settings, node=node)
    settle_heap()
    internal = health.serve_metrics(metrics_bind or settings.metrics_bind)
    try:
        await _serve(app, node, bind=bind, certfile=certfile, keyfile=keyfile,
                     drain_s=drain_s, access_log=access_log, server=server)
    finally:
        if internal is not None:
            internal.shutdown()


async def _serve(app: object, node: Node, *, bind: str, certfile: str, keyfile: str,
                 drain_s: float, access_log: bool, server: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def shutdown_trigger() -> None:
        await stop.wait()
        node.draining = True
        if drain_s > 0:
            await asyncio.sleep(drain_s)

    if server == "uvicorn":
        await _uvicorn(app, bind, certfile, keyfile, access_log, shutdown_trigger)
        return
    config = Config()
    config.bind = [bind]
    config.graceful_timeout = GRACEFUL_S
    config.keep_alive_timeout = KEEP_ALIVE_S
    config.backlog = BACKLOG
    # The server's own records go through the node's JSON pipeline (redacted alike).
    config.accesslog = logging.getLogger("hypercorn.access") if access_log else None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.include_server_header = False  # do not name the server software to scanners
    if certfile:
        config.certfile, config.keyfile = certfile, keyfile
        config.ciphers = tls.TLS12_CIPHERS
    await hypercorn_serve(app, config, shutdown_trigger=shutdown_trigger)  # type: ignore[arg-type]


class _UvicornServer(uvicorn.Server):
    """Uvicorn without its own signal handlers: the node's (above) drain first."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _uvicorn(app: object, bind: str, certfile: str, keyfile: str, access_log: bool,
                   shutdown_trigger: Callable[[], Awaitable[None]]) -> None:
    host, _, port = bind.rpartition(":")
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host.strip("[]"), port=int(port), http=BoundedHttpTools, lifespan="on",
        ssl_certfile=certfile or None, ssl_keyfile=keyfile or None,
        ssl_ciphers=tls.TLS12_CIPHERS,
        timeout_graceful_shutdown=int(GRACEFUL_S), timeout_keep_alive=int(KEEP_ALIVE_S),
        backlog=BACKLOG, access_log=access_log, log_config=None, log_level="warning",
        server_header=False,  # do not name the server software to scanners
        proxy_headers=False,  # the app alone decides which X-Forwarded-For to believe
    )
    srv = _UvicornServer(config)

    async def stop_when_triggered() -> None:
        await shutdown_trigger()
        srv.should_exit = True

    trigger = asyncio.create_task(stop_when_triggered())
    try:
        await srv.serve()
    finally:
        trigger.cancel()

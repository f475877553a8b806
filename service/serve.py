"""Run one auth node under Hypercorn, with a graceful drain on SIGTERM/SIGINT.

On the signal the node first reports not-ready (``/readyz`` 503) for ``drain_s`` so
the load balancer stops sending new requests, then Hypercorn finishes the requests
in flight and exits: a rolling restart loses nothing.
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Callable

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from service.app import build_node, create_app
from service.settings import Settings


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


async def run(settings: Settings, *, bind: str, certfile: str = "", keyfile: str = "",
              drain_s: float = 0.0, access_log: bool = False) -> None:
    node = build_node(settings)
    app = create_app(settings, node=node)
    settle_heap()
    config = Config()
    config.bind = [bind]
    config.graceful_timeout = 10.0
    config.keep_alive_timeout = 75.0
    config.backlog = 1024
    config.accesslog = "-" if access_log else None
    config.include_server_header = False  # do not name the server software to scanners
    if certfile:
        config.certfile, config.keyfile = certfile, keyfile

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def shutdown_trigger() -> None:
        await stop.wait()
        node.draining = True
        if drain_s > 0:
            await asyncio.sleep(drain_s)

    await hypercorn_serve(app, config, shutdown_trigger=shutdown_trigger)  # type: ignore[arg-type]

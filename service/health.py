"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: keys loaded, store
reached recently, not draining), plus ``/metrics`` on an internal listener.

Readiness uses the last successful store ping within a grace period longer than a
Sentinel failover (~2.3 s measured), so a failover does not make every node unready at
once and HAProxy keeps sending traffic to nodes that ride it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import generate_latest, start_http_server
from starlette.requests import Request

from service import certificates, metrics, observability
from service.oidc import clients, keyring
from service.state import Node, node
from service.web.http import JSONResponse

READY_GRACE_S = 10.0
PING_EVERY_S = 1.0
CERTIFICATES_EVERY = 600  # beats: the certificates' expiry is read every ten minutes
log = structlog.get_logger("idportal.health")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive"}, headers={"Cache-Control": "no-store"})


def readiness(n: Node, now: float) -> tuple[bool, dict[str, object]]:
    keys_ok = n.keys.ring is not None
    store_ok = now - n.last_store_ok < READY_GRACE_S
    ready = keys_ok and store_ok and not n.draining
    return ready, {"keys": keys_ok, "store": store_ok, "draining": n.draining}


async def readyz(request: Request) -> JSONResponse:
    ready, detail = readiness(node(request), time.monotonic())
    metrics.READY.set(1 if ready else 0)
    return JSONResponse({"status": "ready" if ready else "not ready", **detail},
                        status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})


def metrics_text() -> str:
    """What the internal listener serves (the Prometheus text format)."""
    return generate_latest(metrics.REGISTRY).decode()


def serve_metrics(bind: str) -> WSGIServer | None:
    """``/metrics`` on an internal listener (``host:port``), apart from the public one:
    HAProxy and the Ingress route only the public port, so the metrics are never public.
    prometheus_client serves them from a thread of its own. Empty ``bind``: none."""
    if not bind:
        return None
    host, _, port = bind.rpartition(":")
    server, _ = start_http_server(int(port), addr=host.strip("[]"), registry=metrics.REGISTRY)
    return server


def report_certificates(n: Node) -> None:
    """The expiry of every certificate the node depends on, and its signing keys' age."""
    for name, path in certificates.watched(n.settings).items():
        when = certificates.expiry(path)
        if when is None:
            log.error("certificate_unreadable", certificate=name, path=path)
        else:
            metrics.CERT_EXPIRY.labels(name).set(when)
    with contextlib.suppress(keyring.KeysMissing):
        metrics.SIGNING_KEY_CREATED.set(n.keys.current.signing_since)


def reload_clients(n: Node) -> None:
    """Read the clients file again when it has changed: e-services are added, changed and
    removed without a restart. A file that does not validate is not taken: the node keeps
    the clients it has and logs every problem (check with ``idportal clients check``)."""
    path = Path(n.settings.clients_file)
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        log.error("clients_reload_failed", error=str(exc))
        return
    if mtime == n.clients_mtime:
        return
    try:
        n.registry = clients.load(path).with_self_service(n.settings.issuer)
    except clients.ClientsError as exc:
        log.error("clients_reload_failed", problems=exc.problems[:20])
    else:
        log.info("clients_reloaded", clients=len(n.registry.clients))
        report_clients(n, mtime)
    n.clients_mtime = mtime  # a bad file is reported once, not every second


def report_clients(n: Node, mtime: float) -> None:
    metrics.CLIENTS_FILE.set(mtime)
    metrics.CLIENTS.set(len(n.registry.clients))


async def watch(n: Node) -> None:
    """Background: ping the store (short timeout, no retry budget), reload keys and the
    clients file when they change."""
    observability.bind(node=n.settings.node_name)
    beats = 0
    report_clients(n, n.clients_mtime)
    while True:
        if beats % CERTIFICATES_EVERY == 0:
            report_certificates(n)
        beats += 1
        if await n.store.probe(within_s=1.0):
            n.last_store_ok = time.monotonic()
        try:
            n.keys.reload_if_changed()
        except Exception as exc:  # a half-written key file must not kill the node
            log.error("keys_reload_failed", error=str(exc))
        reload_clients(n)
        await asyncio.sleep(PING_EVERY_S)

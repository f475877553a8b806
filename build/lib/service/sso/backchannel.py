"""Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0 §2.5, §2.7).

A logout queues its deliveries in the store in the same confirmed step that deletes the
session (``Sessions.end``). The node that took the logout tries them at once, after its
answer is sent; every node also polls the queue, so a delivery that failed, or whose
node died, is retried with backoff by whichever node comes first, until each e-service
has answered 200/204 or the delivery's time (``lifetimes.backchannel_delivery``) is up.
A fresh logout token is minted for every attempt, so none is sent stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import httpx
import structlog

from service import metrics
from service.oidc.issued_tokens import logout_token
from service.state import Node
from service.store.deliveries import Delivery

log = structlog.get_logger("idportal.backchannel")
POLL_S = 1.0
MAX_BACKOFF_S = 60
# Jitter from a generator of its own: the module-wide one is the tests' and tools' (they
# seed it or watch it), and a delivery running in the background must not move it.
_JITTER = random.Random()


def backoff(attempts: int) -> int:
    """Seconds until the next try after ``attempts`` failed rounds: 1, 2, 4 … 60, with
    jitter so that nodes and deliveries do not fall due together."""
    base: int = min(MAX_BACKOFF_S, 2 ** min(attempts, 6))
    return max(1, int(base * _JITTER.uniform(0.8, 1.2) + 0.5))


async def post(http_client: httpx.AsyncClient, uri: str, token: str, client_id: str) -> bool:
    """One POST of a logout token (§2.5); a 200 or 204 is success."""
    try:
        resp = await http_client.post(uri, data={"logout_token": token})
        if resp.status_code in (200, 204):
            metrics.BACKCHANNEL.labels("ok").inc()
            return True
        outcome = f"http {resp.status_code}"
    except httpx.HTTPError as exc:
        outcome = type(exc).__name__
    metrics.BACKCHANNEL.labels("failed").inc()
    log.warning("backchannel_failed", client_id=client_id, outcome=outcome)
    return False


async def attempt(n: Node, d: Delivery, now: int) -> None:
    """Tell each e-service still waiting in ``d``; settle what answered or gave up."""
    finished: list[str] = []
    expired = now >= d.until
    for client_id in d.clients:
        client = n.registry.get(client_id)
        if client is None or not client.backchannel_logout_uri:
            finished.append(client_id)  # nothing to tell (or the e-service was removed)
            continue
        if expired:
            metrics.BACKCHANNEL.labels("expired").inc()
            log.error("backchannel_gave_up", client_id=client_id, sid=d.session.sid,
                      attempts=d.attempts)
            finished.append(client_id)
            continue
        token = logout_token(n.keys.current, issuer=n.settings.issuer, client_id=client_id,
                             sub=n.keys.current.subject(d.session.identity.personal_number,
                                                        client.sector),
                             sid=d.session.sid, now=now,
                             lifetime=n.settings.lifetimes.logout_token, alg=client.id_token_alg)
        if await post(n.http, client.backchannel_logout_uri, token, client_id):
            finished.append(client_id)
    await n.store.deliveries.settle(d.key, finished=finished,
                                    next_due=now + backoff(d.attempts))


async def deliver(n: Node, key: str) -> None:
    """Claim the delivery ``key`` (if it is due and free) and attempt it."""
    now = n.now()
    d = await n.store.deliveries.claim(key, now)
    if d is not None:
        await attempt(n, d, now)


async def deliver_now(n: Node, key: str) -> None:
    """After a logout's answer: its deliveries at once. A failure here is no loss: the
    delivery stays queued for the pollers."""
    try:
        await deliver(n, key)
    except Exception as exc:  # the queue keeps it; say why this try ended
        log.warning("backchannel_deferred", error=type(exc).__name__)


async def poll(n: Node) -> None:
    """Background, on every node: deliver whatever is due."""
    while True:
        try:
            keys, length = await n.store.deliveries.due(n.now())
            metrics.BACKCHANNEL_QUEUE.set(length)
            for key in keys:
                await deliver(n, key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a store outage only delays delivery
            log.warning("backchannel_poll_failed", error=type(exc).__name__)
        await asyncio.sleep(POLL_S * _JITTER.uniform(0.8, 1.2))


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

"""Ending an SSO session: one confirmed step of the store deletes the session, revokes
its grants and queues the back-channel logout of every e-service of the session
(OpenID Connect Back-Channel Logout 1.0) before anything is answered; each delivery is
first tried after the response (``service.sso.backchannel``)."""

from __future__ import annotations

import time

import structlog
from starlette.background import BackgroundTask
from starlette.responses import Response

from service.audit.events import AuditEvent
from service.records import Session
from service.sso import backchannel
from service.state import Node

log = structlog.get_logger("idportal.logout")


async def end_session(n: Node, cookie: str, response: Response, *, notify: bool = True,
                      reference: str = "", client_id: str = "") -> Session | None:
    """End the session behind ``cookie``; with ``notify`` revoke its grants and queue the
    back-channel logout of its e-services (in the same store step as the deletion),
    first tried right after ``response`` is sent, and record the logout in the audit
    trail in that step too (``reference``: the support reference; ``client_id``: the
    e-service the logout came from)."""
    now = n.now()
    event = AuditEvent(kind="logout", outcome="success", ts=time.time(), client_id=client_id,
                       node=n.settings.node_name, reference=reference) if notify else None
    ended = await n.store.sessions.end(
        cookie, now=now,
        notify_until=now + n.settings.lifetimes.backchannel_delivery if notify else 0,
        event=event)
    session, delivery = ended.session, ended.delivery
    if session is None or not notify:
        return session
    if delivery:
        response.background = _after(response.background, n, delivery)
    log.info("logout", sid=session.sid, clients=len(session.clients))
    return session


def _after(previous: BackgroundTask | None, n: Node, delivery: str) -> BackgroundTask:
    async def run() -> None:
        if previous is not None:
            await previous()
        await backchannel.deliver_now(n, delivery)

    return BackgroundTask(run)

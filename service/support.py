"""The support desk's commands (``idportal support``): on the internal side only, with
the nodes' settings (the store and the audit store), never through the public front door.

``lookup`` and ``citizen`` read; ``unlock`` and ``logout`` change something, need the
operator's name and a reason, and are audit events themselves (kind ``support``).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from service.audit import pg
from service.audit.events import PSEUDONYM_PURPOSE, AuditEvent, pseudonym
from service.oidc import keyring
from service.providers.bankid_client import BankIDClient
from service.settings import Settings
from service.store import Store
from service.store.pin_records import summary


def subject_of(settings: Settings, personal_number: str) -> str:
    """The citizen's pseudonym in the audit trail (for the commands, outside a node)."""
    ring = keyring.load(Path(settings.keys_dir), publish_for=0)
    return pseudonym(ring.derived_key(PSEUDONYM_PURPOSE), personal_number)


def lookup(settings: Settings, reference: str) -> list[dict[str, Any]]:
    """Every event of one support reference, from every node (the audit store)."""
    with pg.connect_sync(settings.audit) as conn:
        return pg.search(conn, pg.Query(reference=reference))


async def citizen(settings: Settings, store: Store, personal_number: str) -> dict[str, Any]:
    """Recent logins, live SSO sessions, PIN lock state and PIN record of one citizen."""

    with pg.connect_sync(settings.audit) as conn:
        recent = pg.search(conn, pg.Query(subject=subject_of(settings, personal_number),
                                          limit=20))
    sessions = [{"sid": s.sid, "since": s.created, "method": s.identity.method,
                 "acr": s.identity.acr, "e_services": list(s.clients)}
                for _, s in await store.sessions.of_person(personal_number)]
    return {"recent_logins": [{k: r[k] for k in ("ts", "kind", "outcome", "client_id",
                                                 "method", "acr", "reference")}
                              for r in recent],
            "sessions": sessions, "pin": await store.pins.state(personal_number),
            "pin_record": summary(await store.pin_records.get(personal_number),
                                  int(time.time()))}


async def _audit(settings: Settings, store: Store, personal_number: str, action: str,
                 operator: str, reason: str, **detail: Any) -> None:
    await store.audit.record(AuditEvent(
        kind="support", outcome="success", ts=time.time(),
        subject=subject_of(settings, personal_number), node="support-desk",
        detail={"action": action, "operator": operator, "reason": reason, **detail}))


async def unlock(settings: Settings, store: Store, personal_number: str, *, operator: str,
                 reason: str) -> int:
    """Lift every PIN lock of one citizen; how many counters were cleared."""
    cleared = await store.pins.unlock(personal_number)
    await _audit(settings, store, personal_number, "unlock", operator, reason,
                 cleared=cleared)
    return cleared


async def verify_caller(settings: Settings, store: Store, personal_number: str, *,
                        operator: str, timeout_s: float = 120.0,
                        say: Any = print) -> dict[str, Any]:
    """Ask the caller to confirm in their BankID app that they are ``personal_number``
    (``/phone/auth`` with ``callInitiator`` RP), before the desk changes anything.
    Recorded in the audit trail either way."""
    client = BankIDClient(settings.bankid)
    try:
        ref = await client.phone_auth(personal_number, call_initiator="RP",
                                      visible_text="Stadens kundtjänst vill bekräfta att det "
                                                   "är du som ringer.")
        say("waiting for the caller to confirm in their BankID app …")
        deadline = time.monotonic() + timeout_s
        result = await client.collect(ref)
        while result.status == "pending" and time.monotonic() < deadline:
            await asyncio.sleep(settings.bankid.collect_interval_s)
            result = await client.collect(ref)
        if result.status == "pending":
            await client.cancel(ref)
    finally:
        await client.close()
    verified = result.status == "complete" and \
        result.user.get("personalNumber") == personal_number
    await _audit(settings, store, personal_number, "verify-caller", operator, "",
                 verified=verified, hint=result.hint_code)
    return {"verified": verified, "status": result.status, "hint": result.hint_code,
            "name": f"{result.user.get('givenName', '')} {result.user.get('surname', '')}"
            .strip()}


async def logout(settings: Settings, store: Store, personal_number: str, *, operator: str,
                 reason: str) -> int:
    """End every SSO session of one citizen, each with back-channel logout to its
    e-services (queued in the same store step; the nodes deliver); how many."""
    now = int(time.time())
    ended = 0
    for digest_, _ in await store.sessions.of_person(personal_number):
        done = await store.sessions.end_by_digest(
            digest_, now=now, notify_until=now + settings.lifetimes.backchannel_delivery,
            event=AuditEvent(kind="logout", outcome="success", ts=time.time(),
                             node="support-desk", detail={"by": operator}))
        ended += done.session is not None
    await _audit(settings, store, personal_number, "logout", operator, reason, ended=ended)
    return ended

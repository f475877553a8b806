"""SSO sessions: one hash per session, named by the digest of the cookie value.

Fields: ``d`` the session (JSON), ``abs`` absolute expiry (epoch s), ``rp:<client_id>``
for each e-service that got a code in it (back-channel logout), ``g:<grant_id>`` for
each grant issued in it (revoked at logout), ``ctx:<client_id>`` the context chosen at
an e-service with organisation context ("self" or an organisation number). The idle
timeout slides on every use; the absolute one never moves.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio.client import Pipeline

from service.audit.events import AuditEvent
from service.crypto import digest, new_id
from service.records import Identity, Session
from service.store import keys, scripts
from service.store.client import StoreClient


@dataclass(frozen=True, slots=True)
class Ended:
    """A logout: the session that ended (None: there was none) and the key of its queued
    back-channel deliveries ('' when there was nothing to queue)."""

    session: Session | None
    delivery: str = ""


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session about to be written: its key and hash fields, and how long it lives
    until used again."""

    key: str
    fields: dict[str, str]
    ttl: int


class Sessions:
    def __init__(self, client: StoreClient, *, idle: int, absolute: int,
                 audit_max: int = 200_000) -> None:
        self.client = client
        self.idle = idle
        self.absolute = absolute
        self.audit_max = audit_max  # the audit stream's bound (AuditSettings.stream_max)

    def new(self, identity: Identity, *, now: int, carry: Session | None = None,
            device: str = "") -> Session:
        """A new session (not yet written), with the e-services and grants of ``carry``."""
        return Session(sid=new_id(16), identity=identity, created=now,
                       absolute_expiry=now + self.absolute,
                       clients=carry.clients if carry else (),
                       grants=carry.grants if carry else (),
                       contexts=dict(carry.contexts) if carry else {}, device=device[:100])

    def fields(self, cookie: str, session: Session, *, client_id: str = "",
               grant_id: str = "", context: str = "", audit_subject: str = "") -> NewSession:
        """What writing ``session`` behind ``cookie`` takes, for a step of the store's
        that writes it with other things (finishing a login). ``client_id`` and
        ``grant_id``: the e-service that gets the session's first code, and its grant."""
        # The method's evidence stays in the audit trail (the login's event), not in every
        # session: a session must fit in 1 KB of Redis memory.
        core = Session(sid=session.sid, identity=dataclasses.replace(session.identity,
                                                                    evidence=""),
                       created=session.created, absolute_expiry=session.absolute_expiry,
                       device=session.device)
        fields: dict[str, str] = {"d": core.to_json(), "abs": str(session.absolute_expiry)}
        if audit_subject:  # the logout's audit event names the citizen by it
            fields["as"] = audit_subject
        fields.update({f"rp:{c}": "1" for c in session.clients})
        fields.update({f"g:{g}": "" for g in session.grants})
        fields.update({f"ctx:{c}": v for c, v in session.contexts.items()})
        if client_id:
            fields.update({f"rp:{client_id}": "1", f"g:{grant_id}": client_id})
        if client_id and context:
            fields[f"ctx:{client_id}"] = context
        return NewSession(keys.session(digest(cookie)), fields, min(self.idle, self.absolute))

    async def get(self, cookie: str, *, now: int) -> Session | None:
        """The live session for this cookie, sliding its idle timeout; None if gone."""
        if not _plausible(cookie):
            return None
        raw = await self.client.run(
            "session_get",
            lambda r: r.eval(scripts.TOUCH_SESSION, 1, keys.session(digest(cookie)),
                             now, self.idle))
        return _parse(raw) if raw else None

    def add_client(self, pipe: Pipeline, cookie: str, client_id: str, grant_id: str,
                   context: str = "") -> None:
        """Record (inside a confirmed batch) that an e-service got a grant in this session.

        Should the session have expired a moment before, HSET would make a new key with
        no TTL; EXPIRE NX gives such an orphan one (a live session keeps its own)."""
        key = keys.session(digest(cookie))
        mapping: dict[Any, Any] = {f"rp:{client_id}": "1", f"g:{grant_id}": client_id}
        if context:
            mapping[f"ctx:{client_id}"] = context
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, self.idle, nx=True)

    @staticmethod
    def person_digest(personal_number: str) -> str:
        return digest("person:" + personal_number)

    async def of_person(self, personal_number: str) -> list[tuple[str, Session]]:
        """The live sessions of one citizen (their key digests and what they hold)."""
        index = keys.person_sessions(self.person_digest(personal_number))
        members = await self.client.run("person_sessions", lambda r: r.smembers(index))
        out = []
        for member in sorted(members):
            key = member.decode() if isinstance(member, bytes) else str(member)
            raw = await self.client.run("session_read", functools.partial(_hgetall, key=key))
            session = _parse([x for kv in raw.items() for x in kv]) if raw else None
            if session is not None:
                out.append((key.removeprefix(keys.session("")), session))
        return out

    async def end(self, cookie: str, *, notify_until: int = 0, now: int = 0,
                  event: AuditEvent | None = None) -> Ended:
        """Log out: delete the session (confirmed on a replica) and say what it was.

        With ``notify_until`` the same step revokes its grants and queues the
        back-channel logout of its e-services, to be delivered until then."""
        if not _plausible(cookie):
            return Ended(None)
        return await self.end_by_digest(digest(cookie), notify_until=notify_until, now=now,
                                        event=event)

    async def end_by_digest(self, cd: str, *, notify_until: int = 0, now: int = 0,
                            event: AuditEvent | None = None) -> Ended:
        """``end`` for the session whose cookie has the digest ``cd`` (the support desk
        knows sessions by their index, never by their cookies)."""
        delivery = keys.logout_delivery(cd)
        audit: list[str | int] = [""] if event is None else [
            self.audit_max, event.event_id, f"{event.ts:.3f}", event.client_id, event.node,
            event.reference, json.dumps(event.detail, separators=(",", ":"))]
        raw = await self.client.confirmed_eval(
            "session_end", scripts.END_SESSION,
            [keys.session(cd), delivery, keys.logout_delivery_queue(), keys.audit_stream()],
            # The record outlives its deadline by as long again: the pollers see it
            # expire and count it given up, rather than lose it silently.
            [1 if notify_until else 0, now, notify_until, max(2 * (notify_until - now), 1),
             keys.grant(""), *audit])
        session = _parse(raw) if raw else None
        queued = bool(notify_until and session is not None and session.clients)
        return Ended(session, delivery if queued else "")


async def _hgetall(r: Any, *, key: str) -> dict[str, str]:
    return dict(await r.hgetall(key))


def _parse(raw: list[Any]) -> Session | None:
    fields = dict(zip(raw[::2], raw[1::2], strict=True))
    if "d" not in fields:
        return None
    base = Session.from_json(fields["d"])
    clients = tuple(sorted(k[3:] for k in fields if k.startswith("rp:")))
    grants = tuple(sorted(k[2:] for k in fields if k.startswith("g:")))
    contexts = {k[4:]: v for k, v in fields.items() if k.startswith("ctx:")}
    return Session(sid=base.sid, identity=base.identity, created=base.created,
                   absolute_expiry=base.absolute_expiry, clients=clients, grants=grants,
                   contexts=contexts, device=base.device)


def _plausible(opaque: str) -> bool:
    return 32 <= len(opaque) <= 64 and all(c.isalnum() or c in "-_" for c in opaque)

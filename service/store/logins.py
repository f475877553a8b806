"""Finishing a login: the one store operation of a login in progress.

The login transaction itself travels sealed in the browser (``login.transaction``);
the store only makes it finish once. In one confirmed round trip (one script, one
WAIT) the step marks the transaction finished, writes the new session (a new cookie
value: no fixation) with the e-service's first code and its grant, and, for a PIN
login, gives back the right PIN's reservation. A request that loses the race (a double
submit) writes nothing.
"""

from __future__ import annotations

from service.audit.events import AuditEvent
from service.crypto import new_id
from service.records import Identity, Session
from service.store import keys, scripts
from service.store.client import StoreClient
from service.store.counters import PinAttempt, PinCounters
from service.store.grants import Grants, MintedCode
from service.store.sessions import Sessions


class Logins:
    def __init__(self, client: StoreClient, sessions: Sessions, grants: Grants,
                 pins: PinCounters, *, audit_max: int) -> None:
        self.client = client
        self.sessions = sessions
        self.grants = grants
        self.pins = pins
        self.audit_max = audit_max

    def new_session(self, identity: Identity, *, now: int,
                    carry: Session | None, device: str = "") -> tuple[str, Session]:
        """Choose the new session's cookie and id, for the caller to mint the first code
        in it before ``finish`` writes both."""
        cookie = new_id(32)
        return cookie, self.sessions.new(identity, now=now, carry=carry, device=device)

    async def finish(self, tx_id: str, *, open_for: int, cookie: str, session: Session,
                     first: MintedCode, now: int, pin: PinAttempt | None = None,
                     context: str = "", event: AuditEvent | None = None) -> bool:
        """Finish login ``tx_id`` (which could still be used for ``open_for`` seconds):
        write ``session`` behind ``cookie`` and the e-service's first code, minted in
        it, and the login's audit ``event``. ``pin``: the right PIN attempt whose
        reservation is given back. False when another request finished this login
        first."""
        cg = first.code_grant
        new = self.sessions.fields(cookie, session, client_id=cg.client_id,
                                   grant_id=cg.grant_id, context=context,
                                   audit_subject=event.subject if event else "")
        code = self.grants.prepare_code(first, now=now)
        pin_keys, person_counted = self.pins.release(pin) if pin else ([], "")
        audit = event.to_fields() if event else {}
        args: list[str | int] = [new_id(16), max(open_for, 1), new.ttl, code.ttl,
                                 2 * len(new.fields), 2 * len(code.fields), person_counted,
                                 2 * len(audit), self.audit_max, self.sessions.absolute]
        for fields in (new.fields, code.fields, audit):
            args += [x for kv in fields.items() for x in kv]
        won = await self.client.confirmed_eval(
            "login_finish", scripts.FINISH_LOGIN,
            [keys.finished_login(tx_id), new.key, code.key, keys.audit_stream(),
             keys.person_sessions(self.sessions.person_digest(session.identity.personal_number)),
             *pin_keys],
            args)
        return bool(won)

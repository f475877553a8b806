"""Finishing a login: one store operation for the step that turns a proven identity into
an SSO session and the e-service's first code.

In one confirmed round trip it takes the login transaction (once, only for the browser
that started it), writes the new session (a new cookie value: no fixation) and the code
with its grant. A request that loses the race to take the transaction (a double submit)
withdraws what it wrote, so no session exists that no browser holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio.client import Pipeline

from service.crypto import new_id
from service.records import CodeGrant, Grant, Identity, Session
from service.store.client import StoreClient
from service.store.counters import PinAttempt, PinCounters
from service.store.grants import Grants
from service.store.sessions import Sessions
from service.store.transactions import Transaction, Transactions

# What the caller mints for the new session: the code, what it stands for, its grant.
MintCode = Callable[[Session], tuple[str, CodeGrant, Grant]]


@dataclass(frozen=True, slots=True)
class FinishedLogin:
    cookie: str  # the new session cookie's value
    session: Session
    code: str


class Logins:
    def __init__(self, client: StoreClient, transactions: Transactions, sessions: Sessions,
                 grants: Grants, pins: PinCounters) -> None:
        self.client = client
        self.transactions = transactions
        self.sessions = sessions
        self.grants = grants
        self.pins = pins

    async def finish(self, tx: Transaction, identity: Identity, *, now: int,
                     carry: Session | None, mint: MintCode,
                     pin: PinAttempt | None = None) -> FinishedLogin | None:
        """Take ``tx`` and write the new session and its first code. ``carry``: the
        session of the same person being stepped up (its e-services and grants move to
        the new one); ``pin``: the right PIN attempt whose reservation is given back in
        the same round trip. None when another request finished this login first."""
        cookie, session, write_session = self.sessions.prepare(identity, now=now, carry=carry)
        code, code_grant, grant = mint(session)
        attempt = new_id(16)

        def build(pipe: Pipeline) -> None:
            self.transactions.take_in(pipe, tx, attempt)
            write_session(pipe)
            self.grants.issue_code_in(pipe, code, code_grant, grant, session_cookie=cookie)
            if pin is not None:
                self.pins.release_in(pipe, pin)

        answers = await self.client.confirmed("login_finish", build)
        if not self.transactions.won(answers[0], attempt):
            await self.grants.withdraw_code(code, grant.grant_id, cookie)
            return None
        return FinishedLogin(cookie=cookie, session=session, code=code)

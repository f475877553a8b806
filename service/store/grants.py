"""Grants: authorization codes and the grants they name, refresh-token families, revoked
access tokens and seen client-assertion ids.

Codes are consumed atomically (Lua, GETDEL semantics) and a replay finds the used
marker and revokes the grant the first redemption created. Refresh tokens rotate; an
old one presented again revokes the whole family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from service.crypto import digest
from service.records import CodeGrant, Grant
from service.store import keys, scripts
from service.store.client import StoreClient
from service.store.sessions import Sessions

CodeOutcome = Literal["ok", "revoked", "reused", "missing"]
RefreshOutcome = Literal["ok", "reused", "wrong_client", "missing"]


@dataclass(frozen=True, slots=True)
class Redemption:
    """What redeeming a code found: ``ok`` (the grant is armed), ``revoked`` (its login
    ended first), ``reused`` (a replay: the caller revokes ``code_grant``'s grant) or
    ``missing``."""

    outcome: CodeOutcome
    code_grant: CodeGrant | None = None
    expires_at: int = 0


@dataclass(frozen=True, slots=True)
class Rotation:
    """What rotating a refresh token found: ``ok`` with its grant, ``reused`` (the family
    is revoked), ``wrong_client`` or ``missing``."""

    outcome: RefreshOutcome
    grant: Grant | None = None


class Grants:
    def __init__(self, client: StoreClient, sessions: Sessions, *, code_ttl: int,
                 used_marker_ttl: int, grant_grace: int) -> None:
        self.client = client
        self.sessions = sessions
        self.code_ttl = code_ttl
        self.used_marker_ttl = used_marker_ttl
        self.grant_grace = grant_grace

    async def issue_code(self, code: str, code_grant: CodeGrant, grant: Grant, *,
                         session_cookie: str) -> None:
        """Store the code with its grant (not yet armed: no refresh token, living only as
        long as the code) and note the e-service in the session, confirmed. Redeeming is
        one step (``consume_code``)."""
        await self.client.confirmed("code_issue", lambda pipe: self.issue_code_in(
            pipe, code, code_grant, grant, session_cookie=session_cookie))

    def issue_code_in(self, pipe: Pipeline, code: str, code_grant: CodeGrant, grant: Grant, *,
                      session_cookie: str) -> None:
        """The commands of ``issue_code``, for a batch of the store's (finishing a login)."""
        gkey = keys.grant(grant.grant_id)
        pipe.set(keys.code(digest(code)), code_grant.to_json(), ex=self.code_ttl)
        pipe.hset(gkey, mapping={"data": grant.to_json(), "client_id": grant.client_id,
                                 "rt": "", "ea": str(grant.expires_at)})
        # The unarmed grant lives as long as its code, and a little longer so that the
        # consume script always finds it while the code exists.
        pipe.expire(gkey, self.code_ttl + self.grant_grace)
        self.sessions.add_client(pipe, session_cookie, grant.client_id, grant.grant_id)

    async def withdraw_code(self, code: str, grant_id: str, session_cookie: str) -> None:
        """Delete a code, its grant and its session that were written but never handed
        out (a login that lost the race to finish its transaction)."""
        await self.client.run("code_withdraw", lambda r: r.delete(
            keys.code(digest(code)), keys.grant(grant_id), keys.session(digest(session_cookie))))

    async def consume_code(self, code: str, grant_id: str, attempt: str, *,
                           refresh_digest: str) -> Redemption:
        """Redeem the code and arm its grant with ``refresh_digest`` (atomic, confirmed)."""
        d = digest(code)
        raw = await self.client.confirmed_eval(
            "code_consume", scripts.CONSUME_CODE,
            [keys.code(d), keys.code_used(d), keys.grant(grant_id)],
            [attempt, self.used_marker_ttl, refresh_digest])
        return Redemption(raw[0], CodeGrant.from_json(raw[1]) if len(raw) > 1 else None,
                          int(raw[2]) if len(raw) > 2 else 0)

    async def rotate_refresh(self, grant_id: str, presented: str, new: str,
                             client_id: str) -> Rotation:
        """Rotate the family's refresh token from ``presented`` to ``new`` (atomic,
        confirmed); a rotated-away token presented again revokes the family."""
        raw = await self.client.confirmed_eval(
            "refresh_rotate", scripts.ROTATE_REFRESH,
            [keys.grant(grant_id), keys.grant_used_tokens(grant_id)],
            [digest(presented), digest(new), client_id])
        return Rotation(raw[0], Grant.from_json(raw[1]) if len(raw) > 1 else None)

    async def grant_for_access_token(self, grant_id: str, jti: str) -> Grant | None:
        """The grant behind an access token, or None if it or the token was revoked."""
        async def op(r: Redis) -> Grant | None:
            pipe = r.pipeline(transaction=False)
            pipe.hget(keys.grant(grant_id), "data")
            pipe.exists(keys.revoked_access_token(jti))
            data, revoked = await pipe.execute()
            return None if revoked or not data else Grant.from_json(data)

        return await self.client.run("grant_get", op)

    async def refresh_grant(self, grant_id: str, presented: str) -> Grant | None:
        """For introspection: the grant if ``presented`` is its current refresh token."""
        async def op(r: Redis) -> Grant | None:
            data, current = await r.hmget(keys.grant(grant_id), ["data", "rt"])
            if not data or current != digest(presented):
                return None
            return Grant.from_json(data)

        return await self.client.run("grant_get", op)

    async def revoke_grants(self, grant_ids: list[str] | tuple[str, ...]) -> None:
        if not grant_ids:
            return

        def build(pipe: Pipeline) -> None:
            for gid in grant_ids:
                pipe.delete(keys.grant(gid), keys.grant_used_tokens(gid))

        await self.client.confirmed("grant_revoke", build)

    async def revoke_access_token(self, jti: str, ttl: int) -> None:
        def build(pipe: Pipeline) -> None:
            pipe.set(keys.revoked_access_token(jti), "1", ex=max(1, ttl))

        await self.client.confirmed("access_token_revoke", build)

    async def first_use_of_assertion(self, client_id: str, jti: str, ttl: int) -> bool:
        """True the first time a client assertion's ``jti`` is seen (RFC 7523 §3 item 7)."""
        done = await self.client.run(
            "jti_remember",
            lambda r: r.set(keys.client_assertion_jti(client_id, digest(jti)), "1",
                            ex=max(1, ttl), nx=True))
        return bool(done)

"""Grants: one hash per grant, holding its authorization code until redeemed, then its
refresh-token family, the refresh tokens rotated away and its revoked access tokens.
Also the seen client-assertion ids.

Fields: ``cg`` what the code stands for (``CodeGrant`` JSON), ``code`` the code's digest
and ``cx`` its expiry, ``client_id``, ``ea`` when the family expires, ``rt`` the current
refresh token's digest (empty until redeemed), ``used`` the attempt that redeemed the
code, ``prev`` the digest rotated away last, ``u:<digest>`` every digest rotated away,
``x:<jti>`` every revoked access token. A code names its grant, so each step is one
key. The code is redeemed once (Lua) and a replay finds ``used`` and revokes the grant;
refresh tokens rotate, and an old one presented again revokes the family.
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

CodeOutcome = Literal["ok", "reused", "missing"]
RefreshOutcome = Literal["ok", "reused", "wrong_client", "missing"]


@dataclass(frozen=True, slots=True)
class Redemption:
    """What redeeming a code found: ``ok`` (the grant is armed), ``reused`` (a replay:
    the caller revokes the grant) or ``missing`` (unknown, expired, or its login ended)."""

    outcome: CodeOutcome
    code_grant: CodeGrant | None = None
    expires_at: int = 0


@dataclass(frozen=True, slots=True)
class Rotation:
    """What rotating a refresh token found: ``ok`` with its grant, ``reused`` (the family
    is revoked), ``wrong_client`` or ``missing``."""

    outcome: RefreshOutcome
    grant: Grant | None = None


@dataclass(frozen=True, slots=True)
class MintedCode:
    """A code the caller made, what it stands for, and when its refresh-token family
    will expire once redeemed."""

    code: str
    code_grant: CodeGrant
    expires_at: int


@dataclass(frozen=True, slots=True)
class NewCode:
    """A code about to be written with its grant: the key, fields and lifetime."""

    key: str
    fields: dict[str, str]
    ttl: int


class Grants:
    def __init__(self, client: StoreClient, sessions: Sessions, *, code_ttl: int,
                 grant_grace: int) -> None:
        self.client = client
        self.sessions = sessions
        self.code_ttl = code_ttl
        self.grant_grace = grant_grace

    def prepare_code(self, minted: MintedCode, *, now: int) -> NewCode:
        """The grant hash for a new code: unarmed (no refresh token), living as long as
        the code and a little longer, so redeeming always finds it while the code is
        valid."""
        cg = minted.code_grant
        return NewCode(keys.grant(cg.grant_id), {
            "cg": cg.to_json(), "code": digest(minted.code), "cx": str(now + self.code_ttl),
            "client_id": cg.client_id, "ea": str(minted.expires_at), "rt": ""},
            self.code_ttl + self.grant_grace)

    async def issue_code(self, minted: MintedCode, *, now: int, session_cookie: str,
                         context: str = "") -> None:
        """Store a code for a live session (SSO) and note the e-service in the session,
        confirmed. A login's first code is written by ``Logins.finish``."""
        new = self.prepare_code(minted, now=now)
        cg = minted.code_grant

        def build(pipe: Pipeline) -> None:
            pipe.hset(new.key, mapping=new.fields)  # type: ignore[arg-type]  # str keys
            pipe.expire(new.key, new.ttl)
            self.sessions.add_client(pipe, session_cookie, cg.client_id, cg.grant_id, context)

        await self.client.confirmed("code_issue", build)

    async def consume_code(self, code: str, grant_id: str, attempt: str, *, now: int,
                           refresh_digest: str) -> Redemption:
        """Redeem the code and arm its grant with ``refresh_digest`` (atomic, confirmed)."""
        raw = await self.client.confirmed_eval(
            "code_consume", scripts.CONSUME_CODE, [keys.grant(grant_id)],
            [digest(code), attempt, now, refresh_digest])
        return Redemption(raw[0], CodeGrant.from_json(raw[1]) if len(raw) > 1 else None,
                          int(raw[2]) if len(raw) > 2 else 0)

    async def rotate_refresh(self, grant_id: str, presented: str, new: str,
                             client_id: str) -> Rotation:
        """Rotate the family's refresh token from ``presented`` to ``new`` (atomic,
        confirmed); a rotated-away token presented again revokes the family."""
        raw = await self.client.confirmed_eval(
            "refresh_rotate", scripts.ROTATE_REFRESH, [keys.grant(grant_id)],
            [digest(presented), digest(new), client_id])
        return Rotation(raw[0], _grant(raw[1], raw[2]) if len(raw) > 2 else None)

    async def grant_for_access_token(self, grant_id: str, jti: str) -> Grant | None:
        """The grant behind an access token, or None if it or the token was revoked."""
        cg, ea, revoked = await self.client.command("grant_get", "HMGET", keys.grant(grant_id),
                                                    "cg", "ea", "x:" + jti)
        return None if revoked or not cg or not ea else _grant(str(cg), str(ea))

    async def refresh_grant(self, grant_id: str, presented: str) -> Grant | None:
        """For introspection: the grant if ``presented`` is its current refresh token."""
        async def op(r: Redis) -> Grant | None:
            cg, ea, current = await r.hmget(keys.grant(grant_id), ["cg", "ea", "rt"])
            if not cg or not ea or not current or current != digest(presented):
                return None
            return _grant(str(cg), str(ea))

        return await self.client.run("grant_get", op)

    async def revoke_grants(self, grant_ids: list[str] | tuple[str, ...]) -> None:
        if not grant_ids:
            return
        await self.client.confirmed("grant_revoke", lambda pipe: pipe.delete(  # type: ignore[arg-type]
            *(keys.grant(gid) for gid in grant_ids)))

    async def revoke_access_token(self, grant_id: str, jti: str) -> None:
        """Revoke one access token: its grant remembers it for as long as it lives (a
        token cannot outlive its grant's check)."""
        await self.client.confirmed_eval(
            "access_token_revoke", scripts.REVOKE_ACCESS_TOKEN, [keys.grant(grant_id)], [jti])

    async def first_use_of_assertion(self, client_id: str, jti: str, ttl: int) -> bool:
        """True the first time a client assertion's ``jti`` is seen (RFC 7523 §3 item 7)."""
        done = await self.client.run(
            "jti_remember",
            lambda r: r.set(keys.client_assertion_jti(client_id, digest(jti)), "1",
                            ex=max(1, ttl), nx=True))
        return bool(done)


def _grant(code_grant: str, expires_at: str) -> Grant:
    return CodeGrant.from_json(code_grant).grant(int(expires_at))

"""The session store: Redis behind Sentinel, one owner module per kind of key."""

from __future__ import annotations

from dataclasses import dataclass

from service.settings import Settings
from service.store.audit import AuditTrail
from service.store.client import StoreClient, connect
from service.store.counters import PinCounters
from service.store.deliveries import Deliveries
from service.store.grants import Grants
from service.store.logins import Logins
from service.store.pin_records import PinRecords
from service.store.retry import StoreUnavailable
from service.store.sessions import Sessions

__all__ = ["Store", "StoreUnavailable", "open_store"]


@dataclass(frozen=True)
class Store:
    client: StoreClient
    sessions: Sessions
    grants: Grants
    pins: PinCounters
    pin_records: PinRecords
    deliveries: Deliveries
    logins: Logins
    audit: AuditTrail

    async def ping(self) -> bool:
        return bool(await self.client.run("ping", lambda r: r.ping()))

    async def probe(self, within_s: float) -> bool:
        """One ping without retries, for readiness (``StoreClient.probe``)."""
        return await self.client.probe(within_s)

    async def close(self) -> None:
        await self.client.close()


def open_store(settings: Settings) -> Store:
    client = StoreClient(connect(settings.redis), settings.redis)
    lt = settings.lifetimes
    sessions = Sessions(client, idle=lt.session_idle, absolute=lt.session_absolute,
                        audit_max=settings.audit.stream_max)
    pins = PinCounters(client, window=lt.pin_failure_window)
    grants = Grants(client, sessions, code_ttl=lt.authorization_code,
                    grant_grace=lt.unarmed_grant_grace)
    return Store(
        client=client,
        sessions=sessions,
        grants=grants,
        pins=pins,
        pin_records=PinRecords(client, stream_max=settings.audit.stream_max),
        deliveries=Deliveries(client, lease=lt.backchannel_claim),
        logins=Logins(client, sessions, grants, pins, audit_max=settings.audit.stream_max),
        audit=AuditTrail(client, stream_max=settings.audit.stream_max),
    )

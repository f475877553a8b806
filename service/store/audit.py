"""The audit stream: events wait here (``idp:audit``) until a shipper has them in
PostgreSQL. A login's event is written by the step that finishes the login
(``Logins.finish``); other events by ``record``, confirmed on a replica like every
write a citizen would miss. Shippers read through one consumer group, so any node can
ship and each event goes to one at a time; an event a dead shipper held is claimed
again after ``min_idle_ms``. The stream is bounded (``stream_max``, trimmed
approximately when full: the alert AuditBacklog fires long before)."""

from __future__ import annotations

from typing import Any

from redis.exceptions import RedisError, ResponseError

from service.audit.events import AuditEvent
from service.store import keys
from service.store.client import StoreClient
from service.store.retry import StoreUnavailable

GROUP = "shippers"


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _events(entries: Any) -> list[tuple[str, AuditEvent]]:
    out = []
    for entry_id, fields in entries or []:
        if fields is None:  # deleted while pending
            continue
        decoded = {_decode(k): _decode(v) for k, v in fields.items()}
        out.append((_decode(entry_id), AuditEvent.from_fields(decoded)))
    return out


class AuditTrail:
    def __init__(self, client: StoreClient, *, stream_max: int) -> None:
        self.client = client
        self.stream_max = stream_max

    async def record(self, event: AuditEvent) -> None:
        """Append one event, confirmed on a replica."""
        fields = event.to_fields()
        await self.client.confirmed("audit_record", lambda pipe: pipe.xadd(
            keys.audit_stream(), fields, maxlen=self.stream_max, approximate=True))  # type: ignore[arg-type]

    async def _once(self, op: Any) -> Any:
        """One attempt (a background shipper tries again on its own schedule); a Redis
        error is ``StoreUnavailable`` to the caller."""
        try:
            return await self.client.once(op)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"audit stream: {type(exc).__name__}: {exc}") from exc

    async def backlog(self) -> int:
        """Events not yet shipped (the stream's length: shipped ones are deleted)."""
        return int(await self._once(lambda r: r.xlen(keys.audit_stream())))

    async def ensure_group(self) -> None:
        try:
            await self.client.once(lambda r: r.xgroup_create(
                keys.audit_stream(), GROUP, id="0", mkstream=True))
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise StoreUnavailable(str(exc)) from exc
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"audit stream: {type(exc).__name__}") from exc

    async def take(self, consumer: str, *, count: int,
                   min_idle_ms: int) -> list[tuple[str, AuditEvent]]:
        """Events for ``consumer`` to ship: first any another shipper held for longer
        than ``min_idle_ms`` (it died), else new ones."""
        stream = keys.audit_stream()
        claimed = await self._once(lambda r: r.xautoclaim(
            stream, GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count))
        events = _events(claimed[1] if claimed else [])
        if events:
            return events
        fresh: Any = await self._once(lambda r: r.xreadgroup(
            GROUP, consumer, {stream: ">"}, count=count))
        if isinstance(fresh, dict):  # RESP3: {stream: entries}
            return _events(next(iter(fresh.values()), []))
        return _events(fresh[0][1]) if fresh else []

    async def shipped(self, entry_ids: list[str]) -> None:
        """The events are in PostgreSQL: acknowledge and delete them from the stream."""
        if not entry_ids:
            return
        stream = keys.audit_stream()

        async def op(r: Any) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            pipe.xack(stream, GROUP, *entry_ids)
            pipe.xdel(stream, *entry_ids)
            return list(await pipe.execute())

        await self._once(op)

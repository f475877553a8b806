"""Shipping audit events from the Redis stream into PostgreSQL (every node runs one).

At least once and idempotent: a batch is inserted (``ON CONFLICT DO NOTHING`` by event
id) and only then acknowledged and deleted from the stream. While PostgreSQL is down the
batch is kept and tried again with backoff, and every other event waits in the stream
(``idportal_audit_backlog``; the alert AuditBacklog fires at half the bound); a node
that dies mid-batch leaves it to another after ``CLAIM_AFTER_MS``. Once an hour the
retention is enforced.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import psycopg
import structlog

from service import metrics
from service.audit import pg
from service.audit.events import AuditEvent
from service.state import Node
from service.store import StoreUnavailable

log = structlog.get_logger("idportal.audit")

CLAIM_AFTER_MS = 30_000
IDLE_S = 0.5
BACKOFF_MAX_S = 10.0
PURGE_EVERY_S = 3600.0


async def run(n: Node) -> None:
    """Ship until cancelled. Without ``audit.dsn`` only the backlog is watched."""
    cfg = n.settings.audit
    conn: psycopg.AsyncConnection[Any] | None = None
    held: list[tuple[str, AuditEvent]] = []
    backoff, purged_at = 1.0, 0.0
    group_ready = False
    while True:
        try:
            metrics.AUDIT_BACKLOG.set(await n.store.audit.backlog())
            if not cfg.dsn:
                await asyncio.sleep(5)
                continue
            if not group_ready:
                await n.store.audit.ensure_group()
                group_ready = True
            if conn is None or conn.closed:
                conn = await pg.connect(cfg)
                log.info("audit_store_connected")
            if not held:
                held = await n.store.audit.take(n.settings.node_name, count=cfg.ship_batch,
                                                min_idle_ms=CLAIM_AFTER_MS)
            if held:
                await pg.insert(conn, [e for _, e in held])
                await n.store.audit.shipped([i for i, _ in held])
                metrics.AUDIT_SHIPPED.inc(len(held))
                held = []
            if time.monotonic() - purged_at > PURGE_EVERY_S:
                removed = await pg.purge(conn, cfg.retention_days)
                purged_at = time.monotonic()
                if removed:
                    log.info("audit_retention", removed=removed, days=cfg.retention_days)
            backoff = 1.0
            if not held:
                await asyncio.sleep(IDLE_S)
        except (psycopg.Error, OSError) as exc:
            metrics.AUDIT_SHIP_FAILURES.inc()
            log.warning("audit_ship_failed", error=type(exc).__name__, waiting=len(held))
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
                conn = None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)
        except (StoreUnavailable, TimeoutError) as exc:
            # The stream may be gone with its group (a failover to a replica that had
            # not seen it, a flushed test store): make the group again.
            log.warning("audit_stream_unreachable", error=type(exc).__name__)
            group_ready = False
            await asyncio.sleep(1.0)
        except asyncio.CancelledError:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
            raise

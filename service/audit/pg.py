"""The audit store: PostgreSQL, for retention and search (psycopg 3). One table; an event
is inserted once whatever happens (``ON CONFLICT (event_id) DO NOTHING``), so shipping
at least once is shipping exactly once."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from service.audit.events import AuditEvent
from service.settings import AuditSettings

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_events (
    event_id  text PRIMARY KEY,
    ts        timestamptz NOT NULL,
    kind      text NOT NULL,
    outcome   text NOT NULL,
    subject   text NOT NULL DEFAULT '',
    client_id text NOT NULL DEFAULT '',
    method    text NOT NULL DEFAULT '',
    acr       text NOT NULL DEFAULT '',
    node      text NOT NULL DEFAULT '',
    reference text NOT NULL DEFAULT '',
    detail    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS audit_events_subject ON audit_events (subject, ts);
CREATE INDEX IF NOT EXISTS audit_events_reference ON audit_events (reference);
CREATE INDEX IF NOT EXISTS audit_events_ts ON audit_events (ts);
"""
COLUMNS = ("event_id", "ts", "kind", "outcome", "subject", "client_id", "method", "acr",
           "node", "reference", "detail")


def _password(cfg: AuditSettings) -> str | None:
    return Path(cfg.password_file).read_text().strip() if cfg.password_file else None


async def connect(cfg: AuditSettings) -> psycopg.AsyncConnection[Any]:
    conn = await psycopg.AsyncConnection.connect(cfg.dsn, password=_password(cfg),
                                                 autocommit=True, connect_timeout=3)
    await conn.execute(SCHEMA)
    return conn


def connect_sync(cfg: AuditSettings) -> psycopg.Connection[Any]:
    """For the command line (``idportal audit``, ``idportal support``)."""
    return psycopg.connect(cfg.dsn, password=_password(cfg), autocommit=True,
                           connect_timeout=3)


def _row(e: AuditEvent) -> tuple[Any, ...]:
    return (e.event_id, dt.datetime.fromtimestamp(e.ts, dt.UTC), e.kind, e.outcome, e.subject,
            e.client_id, e.method, e.acr, e.node, e.reference, json.dumps(e.detail))


async def insert(conn: psycopg.AsyncConnection[Any], events: Sequence[AuditEvent]) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            f"INSERT INTO audit_events ({', '.join(COLUMNS)}) VALUES "  # noqa: S608 - constants
            f"({', '.join(['%s'] * len(COLUMNS))}) ON CONFLICT (event_id) DO NOTHING",
            [_row(e) for e in events])


async def purge(conn: psycopg.AsyncConnection[Any], retention_days: int) -> int:
    """Delete events older than the retention; how many."""
    cur = await conn.execute("DELETE FROM audit_events WHERE ts < now() - make_interval("
                             "days => %s)", (retention_days,))
    return cur.rowcount


@dataclass(frozen=True)
class Query:
    subject: str = ""
    reference: str = ""
    client_id: str = ""
    outcome: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 200


def search(conn: psycopg.Connection[Any], q: Query) -> list[dict[str, Any]]:
    """Events matching every given filter, newest first."""
    where, args = [], []
    for column in ("subject", "reference", "client_id", "outcome"):
        value = getattr(q, column)
        if value:
            where.append(f"{column} = %s")
            args.append(value)
    if q.since:
        where.append("ts >= %s")
        args.append(q.since)
    if q.until:
        where.append("ts < %s")
        args.append(q.until)
    sql = (f"SELECT {', '.join(COLUMNS)} FROM audit_events "  # noqa: S608 - constants
           f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY ts DESC LIMIT %s")
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, (*args, q.limit))
        rows = cur.fetchall()
    for row in rows:
        row["ts"] = row["ts"].isoformat()
    return rows


async def recent(cfg: AuditSettings, subject: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """One citizen's latest events (their own page shows them), newest first."""
    conn = await psycopg.AsyncConnection.connect(cfg.dsn, password=_password(cfg),
                                                 autocommit=True, connect_timeout=2)
    try:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {', '.join(COLUMNS)} FROM audit_events WHERE subject = %s "  # noqa: S608 - constants
                "AND kind IN ('login', 'step_up', 'signing', 'logout', 'pin_change') "
                "ORDER BY ts DESC "
                "LIMIT %s", (subject, limit))
            return list(await cur.fetchall())
    finally:
        await conn.close()

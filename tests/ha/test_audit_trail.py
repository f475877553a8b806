"""The audit trail through the running cluster: every acknowledged login has its event
in PostgreSQL (the cluster's own, shipped by the nodes from the Redis stream), found by
its support reference and in the citizen's export; with PostgreSQL killed, logins go on,
events wait in the stream and arrive when it is back; the retention is enforced."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from ha import cluster as clustermod
from ha import procs
from service import cli
from service.audit import pg
from service.audit.events import AuditEvent
from service.settings import load_settings
from tests.ha.test_edge import browser, register_citizen
from tests.helpers import citizen

pytestmark = pytest.mark.ha
REGISTER = Path(__file__).resolve().parents[2] / "config" / "representation.toml"


@pytest.fixture(scope="module")
def info(cluster: clustermod.Cluster) -> dict[str, Any]:
    return clustermod.describe(cluster)


async def pin_login(info: dict[str, Any], pnr: str) -> str:
    """A PIN login at Mina sidor through the front door: the support reference of the
    request that finished it."""
    async with browser(info) as b:
        resp, _ = await citizen.start(b, "mina-sidor",
                                      redirect_uri=info["demos"]["mina-sidor"] + "/callback")
        final = await citizen.pin_login(b, citizen.login_url(resp), pnr, "1234")
        assert final.status_code == 303, final.text[:200]
        return str(final.headers["x-request-id"])


def search(cluster: clustermod.Cluster, capsys: pytest.CaptureFixture[str],
           *args: str) -> list[dict[str, Any]] | None:
    """The command's rows; None while the audit store cannot be reached."""
    capsys.readouterr()
    code = cli.main(["--config", cluster.settings_file, "audit", *args, "--json"])
    out = capsys.readouterr().out
    return list(json.loads(out)) if code == 0 else None


def wait_for(cluster: clustermod.Cluster, capsys: pytest.CaptureFixture[str], reference: str,
             timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = search(cluster, capsys, "search", "--reference", reference)
        if rows or time.monotonic() > deadline:
            return rows or []
        time.sleep(0.5)


async def test_a_login_is_in_the_audit_store_by_reference_and_in_the_export(
        cluster: clustermod.Cluster, info: dict[str, Any], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    pnr = register_citizen(60)
    ref = await pin_login(info, pnr)
    rows = await asyncio.to_thread(wait_for, cluster, capsys, ref)
    assert [(r["kind"], r["outcome"], r["method"], r["client_id"]) for r in rows] == [
        ("login", "success", "pin", "mina-sidor")]
    out = tmp_path / "export.json"
    assert cli.main(["--config", cluster.settings_file, "audit", "export", pnr,
                     "--out", str(out)]) == 0
    export = json.loads(out.read_text())
    assert any(e["reference"] == ref for e in export["events"])
    assert out.stat().st_mode & 0o777 == 0o600


async def test_with_postgres_down_logins_go_on_and_no_event_is_lost(
        cluster: clustermod.Cluster, info: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    db = cluster.member("postgres")
    procs.signal_pid(db.pid, signal.SIGKILL)
    try:
        refs = [await pin_login(info, register_citizen(61 + i)) for i in range(5)]
    finally:
        await asyncio.sleep(0.5)
        fresh = cluster.restart("postgres")
        procs.wait_port(fresh.port, proc=fresh.proc(), timeout=30)
    for ref in refs:
        rows = await asyncio.to_thread(wait_for, cluster, capsys, ref, 40)
        assert len(rows) == 1, ref  # once, even if a batch was tried twice


def test_events_past_the_retention_are_deleted(cluster: clustermod.Cluster) -> None:
    settings = load_settings(cluster.settings_file)
    old = AuditEvent(kind="login", outcome="success",
                     ts=(dt.datetime.now(dt.UTC) - dt.timedelta(days=800)).timestamp())

    async def go() -> int:
        conn = await pg.connect(settings.audit)
        try:
            await pg.insert(conn, [old])
            return await pg.purge(conn, settings.audit.retention_days)
        finally:
            await conn.close()

    assert asyncio.run(go()) >= 1
    with pg.connect_sync(settings.audit) as conn:
        assert not pg.search(conn, pg.Query(since=dt.datetime.now(dt.UTC) - dt.timedelta(
            days=900), until=dt.datetime.now(dt.UTC) - dt.timedelta(days=731)))


async def test_configuration_changes_are_audit_events(
        cluster: clustermod.Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    register = tmp_path / "representation.toml"
    shutil.copy(REGISTER, register)
    assert await asyncio.to_thread(cli.main, [
        "--config", cluster.settings_file, "representation", "add", "--file", str(register),
        "--personal-number", "194001011008", "--org-number", "5560360793", "--org-name",
        "Test AB", "--role", "employee"]) == 0
    assert await asyncio.to_thread(cli.main, ["clients", "reload", "--run-dir",
                                              str(cluster.run_dir)]) == 0

    def changes() -> set[str]:
        rows = search(cluster, capsys, "search", "--limit", "2000") or []
        return {r["detail"].get("change", "") for r in rows if r["kind"] == "config"}

    deadline = time.monotonic() + 20
    while not {"representation add", "clients reload"} <= await asyncio.to_thread(changes):
        assert time.monotonic() < deadline, changes()
        await asyncio.sleep(0.5)

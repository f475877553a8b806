"""Operator commands that are not drills, run through the CLI against the running
cluster: restart one node, restart every node in turn while citizens log in (a rolling
upgrade: no failed login), and reload the clients file without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from typing import Any

import pytest

from ha import cluster as clustermod
from service import cli
from tests.ha.test_edge import browser, register_citizen
from tests.helpers import citizen

pytestmark = pytest.mark.ha


@pytest.fixture(scope="module")
def info(cluster: clustermod.Cluster) -> dict[str, Any]:
    return clustermod.describe(cluster)


def test_restart_one_node(cluster: clustermod.Cluster, capsys: pytest.CaptureFixture[str]
                          ) -> None:
    before = cluster.member("node-2").pid
    assert cli.main(["cluster", "restart", "node-2", "--run-dir", str(cluster.run_dir)]) == 0
    after = clustermod.Cluster.load(cluster.run_dir)
    assert after is not None and after.member("node-2").pid != before
    assert "node-2: restarted and serving again" in capsys.readouterr().out
    cluster.members = after.members  # the shared fixture follows the new pid


async def test_a_rolling_restart_fails_no_login(cluster: clustermod.Cluster,
                                                info: dict[str, Any]) -> None:
    outcomes: list[int] = []
    stop = asyncio.Event()

    async def citizen_loop(i: int) -> None:
        async with browser(info) as b:
            while not stop.is_set():
                resp, _ = await citizen.start(
                    b, "mina-sidor", redirect_uri=info["demos"]["mina-sidor"] + "/callback",
                    prompt="login")
                final = await citizen.pin_login(b, citizen.login_url(resp),
                                                register_citizen(40 + i), "1234")
                outcomes.append(final.status_code)

    loops = [asyncio.create_task(citizen_loop(i)) for i in range(3)]
    code = await asyncio.to_thread(cli.main, ["cluster", "rolling-restart", "--run-dir",
                                              str(cluster.run_dir)])
    stop.set()
    await asyncio.gather(*loops)
    after = clustermod.Cluster.load(cluster.run_dir)
    assert after is not None
    cluster.members = after.members
    assert code == 0 and len(outcomes) > 10
    assert set(outcomes) == {303}, outcomes  # every login went through


async def test_clients_reload_takes_a_new_e_service_and_refuses_a_broken_file(
        cluster: clustermod.Cluster, info: dict[str, Any]) -> None:
    path = cluster.run_dir / "clients.toml"
    original = path.read_text()
    backup = cluster.run_dir / "clients.toml.orig"
    shutil.copy(path, backup)
    added = original + (
        '\n[[client]]\nclient_id = "nytt-e-tjanst"\nname = "Ny e-tjänst"\n'
        'secret_sha256 = "' + "1" * 64 + '"\nredirect_uris = ["https://127.0.0.1:8699/cb"]\n'
        'scopes = ["openid"]\n')
    try:
        path.write_text(added)
        assert await asyncio.to_thread(cli.main, ["clients", "reload", "--run-dir",
                                                  str(cluster.run_dir)]) == 0
        async with browser(info) as b:
            resp, _ = await citizen.start(b, "nytt-e-tjanst",
                                          redirect_uri="https://127.0.0.1:8699/cb",
                                          scope="openid")
            assert resp.status_code == 200  # every node knows it: the method page
        path.write_text(added + "\n[[client]]\nclient_id = 42\n")
        assert await asyncio.to_thread(cli.main, ["clients", "reload", "--run-dir",
                                                  str(cluster.run_dir)]) == 1
        async with browser(info) as b:
            for _ in range(3):  # any node: still the clients it had
                resp, _ = await citizen.start(b, "nytt-e-tjanst",
                                              redirect_uri="https://127.0.0.1:8699/cb",
                                              scope="openid")
                assert resp.status_code == 200
    finally:
        shutil.copy(backup, path)
        with contextlib.suppress(OSError):
            backup.unlink()
        assert await asyncio.to_thread(cli.main, ["clients", "reload", "--run-dir",
                                                  str(cluster.run_dir)]) == 0
    assert path.read_text() == original

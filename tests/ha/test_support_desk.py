"""The support desk's commands through the CLI against the running cluster (the store and
the audit store): look up a citizen and a reference, lift a PIN lock, log a citizen out
everywhere with back-channel logout to the e-services; changes need an operator and a
reason and are audit events."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest

from ha import cluster as clustermod
from service import cli
from tests.ha.test_edge import (
    BANKID_PNR,
    browser,
    demo_login,
    forgets,
    new_login,
    post_pin,
    register_citizen,
)
from tests.helpers import citizen

pytestmark = pytest.mark.ha


@pytest.fixture(scope="module")
def info(cluster: clustermod.Cluster) -> dict[str, Any]:
    return clustermod.describe(cluster)


def support(cluster: clustermod.Cluster, capsys: pytest.CaptureFixture[str],
            *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = cli.main(["--config", cluster.settings_file, "support", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else out


async def test_a_locked_pin_is_lifted_by_the_desk_with_a_reason_on_record(
        cluster: clustermod.Cluster, info: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    pnr = register_citizen(70)
    async with browser(info) as b:
        resp, _ = await citizen.start(b, "mina-sidor",
                                      redirect_uri=info["demos"]["mina-sidor"] + "/callback")
        tx = citizen.login_url(resp).rsplit("/", 1)[1]
        for _ in range(6):
            await post_pin(b, tx, pnr, "0000", forwarded_for="203.0.113.9")
        assert (await post_pin(b, tx, pnr, "1234", forwarded_for="")).status_code == 429
        # The failed attempts reach the audit store within moments (shipped by the nodes).
        deadline = time.monotonic() + 20
        while True:
            code, seen = await asyncio.to_thread(support, cluster, capsys, "citizen", pnr)
            assert code == 0 and seen["pin"], seen
            if any(r["outcome"] == "failure" for r in seen["recent_logins"]):
                break
            assert time.monotonic() < deadline, seen["recent_logins"]
            await asyncio.sleep(0.5)
        code, _ = await asyncio.to_thread(support, cluster, capsys, "unlock", pnr)
        assert code == 2  # no operator, no reason: refused
        code, done = await asyncio.to_thread(
            support, cluster, capsys, "unlock", pnr, "--operator", "Kim Karlsson",
            "--reason", "caller verified with BankID")
        assert code == 0 and done["cleared"] >= 1
        assert (await post_pin(b, tx, pnr, "1234", forwarded_for="")).status_code == 303


async def test_the_desk_logs_a_citizen_out_everywhere_and_the_e_services_hear_of_it(
        cluster: clustermod.Cluster, info: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    async with browser(info) as b, httpx.AsyncClient(base_url=info["phone_url"]) as phone:
        demo = info["demos"]["mina-sidor"]
        await demo_login(b, phone, demo)
        code, seen = await asyncio.to_thread(support, cluster, capsys, "citizen", BANKID_PNR)
        assert code == 0 and any("mina-sidor" in s["e_services"] for s in seen["sessions"])
        code, done = await asyncio.to_thread(
            support, cluster, capsys, "logout", BANKID_PNR, "--operator", "Kim Karlsson",
            "--reason", "citizen reported a stolen phone")
        assert code == 0 and done["ended"] >= 1
        assert await forgets(b, demo, within=10)  # back-channel logout reached it
        sso, _ = await citizen.start(b, "mina-sidor", redirect_uri=demo + "/callback",
                                     prompt="none")
        assert citizen.query_of(sso.headers["location"])["error"] == "login_required"
    # The desk's action is in the audit trail, with who and why.
    deadline = time.monotonic() + 20
    while True:
        capsys.readouterr()
        cli.main(["--config", cluster.settings_file, "audit", "search", "--json"])
        rows = json.loads(capsys.readouterr().out)
        # This test's own action (the support runbook's test logs a citizen out too, and
        # its event may be shipped first).
        mine = [r for r in rows if r["kind"] == "support" and r["detail"].get("action") ==
                "logout" and r["detail"].get("reason") == "citizen reported a stolen phone"]
        if mine or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert mine and mine[0]["detail"]["operator"] == "Kim Karlsson"


async def test_a_reference_shows_every_event_under_it(
        cluster: clustermod.Cluster, info: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    async with browser(info) as b:
        resp, _ = await citizen.start(b, "mina-sidor",
                                      redirect_uri=info["demos"]["mina-sidor"] + "/callback")
        final = await citizen.pin_login(b, citizen.login_url(resp), register_citizen(71),
                                        "1234")
        ref = final.headers["x-request-id"]
    deadline = time.monotonic() + 20
    while True:
        code, rows = await asyncio.to_thread(support, cluster, capsys, "lookup", ref)
        if (code == 0 and rows) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert code == 0 and [r["outcome"] for r in rows] == ["success"]


async def test_the_desk_has_the_caller_confirm_in_bankid_before_it_acts(
        cluster: clustermod.Cluster, info: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    async def answer(action: str) -> None:
        async with httpx.AsyncClient(base_url=info["phone_url"]) as phone:
            for _ in range(40):  # the order appears once the command has asked
                r = await phone.post("/phone/answer", json={"personalNumber": BANKID_PNR,
                                                            "action": action})
                if r.status_code == 200:
                    return
                await asyncio.sleep(0.25)
        raise AssertionError("no phone order appeared")

    for action, verified in (("approve", True), ("userCancel", False)):
        desk = asyncio.create_task(asyncio.to_thread(
            support, cluster, capsys, "verify-caller", BANKID_PNR, "--operator", "Kim"))
        await answer(action)
        code, result = await desk
        if verified:
            assert code == 0 and result["verified"] and result["name"], result
        else:
            assert code == 1  # not confirmed: the desk changes nothing


async def test_a_citizen_sees_their_recent_logins_on_their_own_page(
        info: dict[str, Any]) -> None:
    async with browser(info) as b, httpx.AsyncClient(base_url=info["phone_url"]) as phone:
        await demo_login(b, phone, info["demos"]["bygglov"])
        deadline = time.monotonic() + 20
        while True:
            page = await b.get("/mina-inloggningar")
            # The login's event arrives from the audit store once shipped.
            if "inloggning på Bygglov" in page.text or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert page.status_code == 200 and "Bygglov" in page.text
        assert "inloggning på Bygglov" in page.text, page.text[-1500:]
        assert "python-httpx" in page.text  # the session's device, as its browser said
        changed = await b.post("/mina-inloggningar/pin", data={
            "csrf": citizen.csrf_of(page.text), "pin": "5738", "pin_repeat": "5738"})
        assert changed.status_code == 200 and "Din nya PIN-kod gäller" in changed.text
    async with browser(info) as fresh:
        tx = await new_login(fresh, info)
        assert (await post_pin(fresh, tx, BANKID_PNR, "5738", forwarded_for="")).status_code == 303


def pin_cmd(cluster: clustermod.Cluster, capsys: pytest.CaptureFixture[str],
            *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = cli.main(["--config", cluster.settings_file, "pin", *args, "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if code == 0 else out.err


async def test_a_pin_letter_from_the_desk_lets_the_citizen_choose_a_pin_through_the_front_door(
        cluster: clustermod.Cluster, info: dict[str, Any],
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pnr = register_citizen(72)
    code, _ = await asyncio.to_thread(pin_cmd, cluster, capsys, "reset", pnr)
    assert code == 2  # no operator, no reason: refused
    code, letter = await asyncio.to_thread(
        pin_cmd, cluster, capsys, "reset", pnr, "--operator", "Kim Karlsson", "--reason",
        "caller verified with BankID, PIN forgotten", "--out", str(tmp_path))
    assert code == 0, letter
    printed = re.search(r'class="code">([0-9A-Z-]+)<',
                        await asyncio.to_thread(Path(letter["letter"]).read_text))
    assert printed
    async with browser(info) as b:
        tx = await new_login(b, info)
        assert (await post_pin(b, tx, pnr, "1234", forwarded_for="")).status_code == 401
        form = await b.get("/pin/aktivera")
        done = await b.post("/pin/aktivera", data={
            "csrf": citizen.csrf_of(form.text), "personal_number": pnr,
            "code": printed.group(1), "pin": "4826", "pin_repeat": "4826"})
        assert done.status_code == 200, done.text[:300]
        tx = await new_login(b, info)
        assert (await post_pin(b, tx, pnr, "4826", forwarded_for="")).status_code == 303
    code, status = await asyncio.to_thread(pin_cmd, cluster, capsys, "status", pnr)
    assert code == 0 and status["state"] == "active" and "letter" not in status
    code, seen = await asyncio.to_thread(support, cluster, capsys, "citizen", pnr)
    assert seen["pin_record"]["state"] == "active"
    code, revoked = await asyncio.to_thread(
        pin_cmd, cluster, capsys, "revoke", pnr, "--operator", "Kim Karlsson", "--reason",
        "citizen asked")
    assert code == 0 and revoked["revoked"]
    async with browser(info) as b:
        tx = await new_login(b, info)
        assert (await post_pin(b, tx, pnr, "4826", forwarded_for="")).status_code == 401


async def test_a_register_from_another_system_is_imported_and_logs_in_through_the_front_door(
        cluster: clustermod.Cluster, info: dict[str, Any],
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    register = tmp_path / "legacy.csv"
    hashed = bcrypt.hashpw(b"6130", bcrypt.gensalt(rounds=4)).decode()
    await asyncio.to_thread(register.write_text, "personal_number,given_name,family_name,"
                            f"pin_hash\n19121212-1212,Tolvan,Tolvansson,{hashed}\n")
    code, done = await asyncio.to_thread(
        pin_cmd, cluster, capsys, "import", str(register), "--operator", "Kim Karlsson",
        "--reason", "migration from the old portal", "--replace")
    assert code == 0 and done == {"read": 1, "written": 1}
    async with browser(info) as b:
        tx = await new_login(b, info)
        assert (await post_pin(b, tx, "191212121212", "6130",
                               forwarded_for="")).status_code == 303

"""The PIN life cycle against a real Redis: a letter's activation code (issue, reset),
choosing a PIN with it, revoke, imported registers re-hashed at login, and a new PIN on
the citizen's own page. Every rule here has a test that tries to break it."""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import re
import stat
import time
from pathlib import Path

import bcrypt
import pytest

from service import pin_admin
from service.login import pin_rules
from service.pin_pages import ACTIVATION_PATH
from service.selfservice import device_name
from service.store.pin_records import PinRecords
from service.store.retry import StoreUnavailable
from service.web import devices
from tests.conftest import PIN_CITIZEN, World
from tests.helpers import citizen
from tests.integration.test_page_rules import check

pytestmark = pytest.mark.integration
NEW = "19121212-1212"  # no PIN record yet
NEW_DIGITS = "191212121212"
BANKID_PNR = "198112189876"
CODE = re.compile(r'class="code">([0-9A-Z-]+)<')


async def issue(world: World, tmp_path: Path, pnr: str = NEW, *, reset: bool = False
                ) -> tuple[str, Path]:
    letter = await pin_admin.issue(world.settings, world.node.store, pnr, operator="Ann",
                                   reason="asked by phone", reset=reset, given_name="Tolvan",
                                   family_name="Tolvansson", out_dir=tmp_path)
    found = CODE.search(letter.path.read_text())
    assert found, "no code in the letter"
    return found.group(1), letter.path


async def activate(world: World, pnr: str, code: str, pin: str, repeat: str | None = None,
                   browser: object = None) -> tuple[int, str]:
    b = browser or world.browser
    form = await b.get(ACTIVATION_PATH)  # type: ignore[attr-defined]
    assert form.status_code == 200
    resp = await b.post(ACTIVATION_PATH, data={  # type: ignore[attr-defined]
        "csrf": citizen.csrf_of(form.text), "personal_number": pnr, "code": code,
        "pin": pin, "pin_repeat": pin if repeat is None else repeat})
    return resp.status_code, resp.text


async def pin_login(world: World, pnr: str, pin: str) -> int:
    browser = world.new_browser()  # a fresh browser: no SSO session, no known-browser
    resp, _ = await citizen.start(browser, "rp-basic")
    done = await citizen.pin_login(browser, citizen.login_url(resp), pnr, pin)
    return done.status_code


async def test_a_letter_lets_a_new_citizen_choose_a_pin_and_log_in(world: World,
                                                                   tmp_path: Path) -> None:
    code, letter = await issue(world, tmp_path)
    assert stat.S_IMODE(letter.stat().st_mode) == 0o600
    text = letter.read_text()
    assert "Tolvan Tolvansson" in text and "19121212-****" in text and NEW_DIGITS not in text
    assert ACTIVATION_PATH in text and "kundtjänst: 08-000 00 00" in text  # whom to call
    assert await pin_login(world, NEW, "4826") == 401  # no PIN before the letter is used
    status, page = await activate(world, NEW, code.lower(), "4826")  # case and dashes: any
    assert status == 200 and "Din PIN-kod är klar" in page
    check(page, "sv")
    assert await pin_login(world, NEW, "4826") == 303


async def test_the_code_is_stored_only_as_an_argon2id_hash(world: World, tmp_path: Path) -> None:
    code, _ = await issue(world, tmp_path)
    plain = pin_rules.normalise_code(code)
    for key in world.redis.scan_iter("idp:*"):
        if world.redis.type(key) == "hash":
            dump = " ".join(world.redis.hgetall(key).values())
        elif world.redis.type(key) == "stream":
            dump = str(world.redis.xrange(key))
        else:
            continue
        assert plain not in dump and code not in dump and NEW_DIGITS not in dump, key
    assert world.redis.hget(PinRecords.key(NEW_DIGITS), "ch").startswith("$argon2id$")


async def test_an_activation_code_works_once(world: World, tmp_path: Path) -> None:
    code, _ = await issue(world, tmp_path)
    assert (await activate(world, NEW, code, "4826"))[0] == 200
    status, page = await activate(world, NEW, code, "7391")
    assert status == 401 and "redan använts" in page
    assert await pin_login(world, NEW, "7391") == 401
    assert await pin_login(world, NEW, "4826") == 303


async def test_two_browsers_racing_with_one_code_set_one_pin(world: World, tmp_path: Path) -> None:
    code, _ = await issue(world, tmp_path)
    results = await asyncio.gather(*(activate(world, NEW, code, pin, browser=world.new_browser())
                                     for pin in ("4826", "7391", "5083")))
    assert sorted(s for s, _ in results).count(200) == 1, [s for s, _ in results]
    chosen = next(pin for (s, _), pin in zip(results, ("4826", "7391", "5083"), strict=True)
                  if s == 200)
    assert await pin_login(world, NEW, chosen) == 303


async def test_a_code_works_only_for_the_citizen_it_was_issued_to(world: World,
                                                                   tmp_path: Path) -> None:
    code, _ = await issue(world, tmp_path)  # for NEW
    await issue(world, tmp_path, PIN_CITIZEN)
    assert (await activate(world, PIN_CITIZEN, code, "4826"))[0] == 401
    assert await pin_login(world, PIN_CITIZEN, "4826") == 401
    assert await pin_login(world, PIN_CITIZEN, "1234") == 303


async def test_an_unknown_number_and_a_wrong_code_get_the_same_answer(world: World,
                                                                      tmp_path: Path) -> None:
    code, _ = await issue(world, tmp_path)
    wrong = "AAAA-BBBB-" + ("CCCC" if not code.endswith("CCCC") else "DDDD")
    unknown = await activate(world, "19400101-1016", wrong, "4826", browser=world.new_browser())
    mistyped = await activate(world, NEW, wrong, "4826", browser=world.new_browser())
    assert unknown[0] == mistyped[0] == 401
    strip = re.compile(r"[0-9a-f]{16}|value=\"[^\"]*\"")  # references, tokens, the number
    assert strip.sub("", unknown[1]) == strip.sub("", mistyped[1])


async def test_an_expired_code_is_refused(world: World, tmp_path: Path) -> None:
    code, _ = await issue(world, tmp_path)
    world.redis.hset(PinRecords.key(NEW_DIGITS), "cx", str(int(time.time()) - 1))
    status, page = await activate(world, NEW, code, "4826")
    assert status == 401 and "gått ut" in page


async def test_activation_is_throttled_like_a_pin(world: World, tmp_path: Path) -> None:
    code, _ = await issue(world, tmp_path)
    for _ in range(5):
        assert (await activate(world, NEW, "AAAA-BBBB-CCCC", "4826"))[0] == 401
    status, page = await activate(world, NEW, code, "4826")  # the right code, too late
    assert status == 429 and "kundtjänst" in page


@pytest.mark.parametrize(("pin", "repeat", "says"), [
    ("12", "12", "4–12 siffror"), ("abcd", "abcd", "4–12 siffror"),
    ("0000", "0000", "en och samma siffra"), ("1234", "1234", "stege"),
    ("9876", "9876", "stege"), ("1212", "1212", "födelsedatum"),
    ("4826", "4827", "inte lika")])
async def test_a_weak_or_mistyped_pin_is_refused_before_the_code_is_spent(
        world: World, tmp_path: Path, pin: str, repeat: str, says: str) -> None:
    code, _ = await issue(world, tmp_path)
    status, page = await activate(world, NEW, code, pin, repeat)
    assert status == 400 and says in page
    assert (await activate(world, NEW, code, "4826"))[0] == 200  # the code still works


async def test_the_activation_form_needs_its_token_and_a_real_code(world: World) -> None:
    resp = await world.browser.post(ACTIVATION_PATH, data={
        "csrf": "forged", "personal_number": NEW, "code": "AAAA", "pin": "4826",
        "pin_repeat": "4826"})
    assert resp.status_code == 403
    status, page = await activate(world, NEW, "not a code!", "4826")
    assert status == 400 and "12 bokstäver" in page
    status, page = await activate(world, "19121212-1213", "AAAA-BBBB-CCCC", "4826")
    assert status == 400 and "inte giltigt" in page


async def test_reset_stops_the_old_pin_at_once_and_a_new_letter_sets_another(
        world: World, tmp_path: Path) -> None:
    assert await pin_login(world, PIN_CITIZEN, "1234") == 303
    code, letter = await issue(world, tmp_path, PIN_CITIZEN, reset=True)
    assert "spärrats" in letter.read_text()
    assert await pin_login(world, PIN_CITIZEN, "1234") == 401
    assert (await activate(world, PIN_CITIZEN, code, "4826"))[0] == 200
    assert await pin_login(world, PIN_CITIZEN, "4826") == 303


async def test_a_new_letter_leaves_the_pin_working_until_it_is_used(world: World,
                                                                    tmp_path: Path) -> None:
    first, _ = await issue(world, tmp_path, PIN_CITIZEN)
    second, _ = await issue(world, tmp_path, PIN_CITIZEN)
    assert await pin_login(world, PIN_CITIZEN, "1234") == 303
    assert (await activate(world, PIN_CITIZEN, first, "4826"))[0] == 401  # replaced
    assert (await activate(world, PIN_CITIZEN, second, "4826"))[0] == 200


async def test_revoke_stops_the_pin_and_the_letter(world: World, tmp_path: Path) -> None:
    code, _ = await issue(world, tmp_path, PIN_CITIZEN)
    assert await pin_admin.revoke(world.settings, world.node.store, PIN_CITIZEN,
                                  operator="Ann", reason="lost letter")
    assert await pin_login(world, PIN_CITIZEN, "1234") == 401
    assert (await activate(world, PIN_CITIZEN, code, "4826"))[0] == 401
    assert (await pin_admin.status(world.node.store, PIN_CITIZEN))["state"] == "revoked"
    assert not await pin_admin.revoke(world.settings, world.node.store, NEW, operator="Ann",
                                      reason="none")


async def test_issuing_for_an_unknown_citizen_needs_the_names(world: World,
                                                              tmp_path: Path) -> None:
    with pytest.raises(pin_admin.PinAdminError, match="--given-name"):
        await pin_admin.issue(world.settings, world.node.store, NEW, operator="Ann",
                              reason="r", out_dir=tmp_path)
    assert _files(tmp_path) == []  # no letter without its code stored


async def test_no_letter_is_left_when_its_code_could_not_be_stored(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def store_down(*args: object, **kwargs: object) -> bool:
        raise StoreUnavailable("the store is away")

    monkeypatch.setattr(world.node.store.pin_records, "issue_code", store_down)
    with pytest.raises(StoreUnavailable):
        await pin_admin.issue(world.settings, world.node.store, PIN_CITIZEN, operator="Ann",
                              reason="r", out_dir=tmp_path)
    assert _files(tmp_path) == []


def _files(folder: Path) -> list[Path]:
    return list(folder.iterdir())


def _pbkdf2(pin: str, salt: str = "NaCl4711", rounds: int = 260_000) -> str:
    raw = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), rounds)
    return f"pbkdf2_sha256${rounds}${salt}${base64.b64encode(raw).decode()}"


async def test_an_imported_legacy_register_logs_in_and_is_rehashed_to_argon2id(
        world: World, tmp_path: Path) -> None:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["personal_number", "given_name", "family_name", "pin_hash", "unused"])
    w.writerow([NEW_DIGITS, "Tolvan", "Tolvansson",
                bcrypt.hashpw(b"5809", bcrypt.gensalt(rounds=4)).decode(), "x"])
    w.writerow(["19400101-1008", "Sofia", "Eriksson", _pbkdf2("2741"), ""])
    register = tmp_path / "legacy.csv"
    register.write_text(out.getvalue())
    read, written = await pin_admin.import_file(world.settings, world.node.store, register,
                                                fmt="auto", replace=False, operator="Ann",
                                                reason="migration")
    assert (read, written) == (2, 1)  # Sofia is known already: her record is kept
    assert await pin_login(world, "19400101-1008", "2741") == 401
    read, written = await pin_admin.import_file(world.settings, world.node.store, register,
                                                fmt="csv", replace=True, operator="Ann",
                                                reason="migration")
    assert written == 2
    for pnr, pin in ((NEW_DIGITS, "5809"), ("194001011008", "2741")):
        key = PinRecords.key(pnr)
        assert not world.redis.hget(key, "h").startswith("$argon2id$")
        assert await pin_login(world, pnr, pin) == 303
        assert world.redis.hget(key, "h").startswith("$argon2id$")  # re-hashed once
        assert await pin_login(world, pnr, pin) == 303
    config = [f for _, f in world.redis.xrange("idp:audit") if f["kind"] == "config"]
    assert config and '"action":"pin-import"' in config[-1]["detail"]


async def test_a_citizen_proven_with_bankid_chooses_a_new_pin_on_their_own_page(
        world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    done = await citizen.bankid_login(world.browser, world.phone, citizen.login_url(resp),
                                      BANKID_PNR)
    assert done.status_code == 303
    page = await world.browser.get("/mina-inloggningar?lang=en")
    assert "You have no PIN" in page.text
    check(page.text, "en")
    csrf = citizen.csrf_of(page.text)
    forged = await world.browser.post("/mina-inloggningar/pin", data={
        "csrf": "forged", "pin": "4826", "pin_repeat": "4826"})
    assert forged.status_code == 403
    weak = await world.browser.post("/mina-inloggningar/pin?lang=en", data={
        "csrf": csrf, "pin": "1111", "pin_repeat": "1111"})
    assert weak.status_code == 400 and "one digit repeated" in weak.text
    ok = await world.browser.post("/mina-inloggningar/pin?lang=en", data={
        "csrf": csrf, "pin": "4826", "pin_repeat": "4826"})
    assert ok.status_code == 200 and "Your new PIN works from now on" in ok.text
    assert "You have a PIN" in ok.text
    assert await pin_login(world, BANKID_PNR, "4826") == 303
    kinds = [(f["kind"], f["detail"]) for _, f in world.redis.xrange("idp:audit")]
    assert any(k == "pin_change" and '"action":"change"' in d for k, d in kinds)


async def test_a_pin_session_cannot_change_the_pin(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-basic")
    assert (await citizen.pin_login(world.browser, citizen.login_url(resp), PIN_CITIZEN,
                                    "1234")).status_code == 303
    refused = await world.browser.post("/mina-inloggningar/pin", data={
        "csrf": "anything", "pin": "4826", "pin_repeat": "4826"})
    assert refused.status_code == 403
    assert await pin_login(world, PIN_CITIZEN, "1234") == 303


async def test_the_own_page_names_each_sessions_device(world: World) -> None:
    browser = world.new_browser()
    browser.headers["user-agent"] = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) "
                                     "Gecko/20100101 Firefox/128.0")
    resp, _ = await citizen.start(browser, "rp-basic")
    await citizen.bankid_login(browser, world.phone, citizen.login_url(resp), BANKID_PNR)
    page = await browser.get("/mina-inloggningar?lang=en")
    assert "Firefox on Windows" in page.text


async def test_every_pin_change_is_an_audit_event(world: World, tmp_path: Path) -> None:
    code, _ = await issue(world, tmp_path)
    await activate(world, NEW, "AAAA-BBBB-CCCC", "4826")
    await activate(world, NEW, code, "4826")
    await pin_admin.revoke(world.settings, world.node.store, NEW, operator="Ann", reason="r")
    events = [f for _, f in world.redis.xrange("idp:audit") if f["kind"] == "pin_change"]
    actions = [(re.search(r'"action":"(\w+)"', f["detail"]).group(1), f["outcome"])  # type: ignore[union-attr]
               for f in events]
    assert actions == [("issue", "success"), ("activate", "failure"),
                       ("activate", "success"), ("revoke", "success")]
    assert all(f["subject"] and NEW_DIGITS not in str(f) for f in events)


@pytest.mark.parametrize(("agent", "name"), [
    ("", "unknown device"), ("   ", "unknown device"),
    ("python-httpx/0.28.1", "unknown device (python-httpx/0.28.1)"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Mobile Safari on iOS"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows")])
def test_a_device_is_named_from_its_user_agent(agent: str, name: str) -> None:
    assert device_name("en", devices.kind(agent)) == name

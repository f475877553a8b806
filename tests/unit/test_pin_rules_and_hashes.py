"""New PINs, activation codes, the hash schemes of imported registers, and register
files: the pure rules of the PIN life cycle."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import bcrypt
import pytest
from argon2 import PasswordHasher

from service.login import pin_rules
from service.providers import pin_register
from service.providers.pin_hashes import PinHasher, UnknownScheme, Verdict, scheme

PNR = "199005151234"
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.mark.parametrize(("pin", "problems"), [
    ("4826", []), ("482619", []), ("123", ["pin_rule_length"]),
    ("1234567890123", ["pin_rule_length"]), ("12a4", ["pin_rule_length"]),
    ("", ["pin_rule_length"]), ("7777", ["pin_rule_repeated"]), ("3456", ["pin_rule_run"]),
    ("6543", ["pin_rule_run"]), ("900515", ["pin_rule_birthdate"]),
    ("0515", ["pin_rule_birthdate"]), ("1505", ["pin_rule_birthdate"]),
    ("1990", ["pin_rule_birthdate"]), ("19900515", ["pin_rule_birthdate"])])
def test_a_new_pin_is_checked_against_the_rules(pin: str, problems: list[str]) -> None:
    assert pin_rules.pin_problems(pin, PNR) == problems


def test_activation_codes_are_twelve_unambiguous_characters_and_differ() -> None:
    codes = {pin_rules.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 12 and not set(code) & set("ILOU")
        assert pin_rules.normalise_code(pin_rules.printed(code)) == code


@pytest.mark.parametrize(("typed", "code"), [
    ("abcd-efgh-jkmn", "ABCDEFGHJKMN"), (" ABCD EFGH JKMN ", "ABCDEFGHJKMN"),
    ("OOOO-IIII-LLLL", "000011111111"), ("ABCD-EFGH-JKM", ""), ("ABCD-EFGH-JKMU", ""),
    ("ABCD-EFGH-JKMN-P", ""), ("ÅBCD-EFGH-JKMN", "")])
def test_a_typed_code_is_normalised_or_refused(typed: str, code: str) -> None:
    assert pin_rules.normalise_code(typed) == code


def _pbkdf2(pin: str, rounds: int = 20_000) -> str:
    raw = hashlib.pbkdf2_hmac("sha256", pin.encode(), b"salt", rounds)
    return f"pbkdf2_sha256${rounds}$salt${base64.b64encode(raw).decode()}"


def test_the_schemes_of_imported_registers_are_recognised() -> None:
    assert scheme(FAST.hash("1")) == "argon2id"
    assert scheme(bcrypt.hashpw(b"1", bcrypt.gensalt(rounds=4)).decode()) == "bcrypt"
    assert scheme(_pbkdf2("1")) == "pbkdf2_sha256"
    for bad in ("", "1234", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "md5$x$y",
                "pbkdf2_sha256$100$salt$x", "$2b$04$short"):
        with pytest.raises(UnknownScheme):
            scheme(bad)


@pytest.mark.parametrize("make", [
    lambda pin: bcrypt.hashpw(pin.encode(), bcrypt.gensalt(rounds=4)).decode(),
    _pbkdf2,
    lambda pin: PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(pin)])
async def test_an_older_scheme_verifies_and_comes_back_as_argon2id(make: object) -> None:
    hasher = PinHasher(FAST)
    stored = make("5809")  # type: ignore[operator]
    right = await hasher.verify(stored, "5809")
    assert right.ok and right.rehashed.startswith("$argon2id$")
    assert FAST.verify(right.rehashed, "5809")
    wrong = await hasher.verify(stored, "5808")
    assert not wrong.ok and not wrong.rehashed


async def test_the_event_loop_keeps_serving_while_a_pin_is_verified() -> None:
    # On the loop, every verification would stop the node (BENCHMARKS.md: BankID logins
    # beside PIN logins fell to a sixth). Another task keeps running while one is verified.
    import asyncio

    slow = PasswordHasher(time_cost=4, memory_cost=8 * 1024, parallelism=1)
    hasher, stored = PinHasher(slow), slow.hash("5809")
    ticks = 0

    async def other_work() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    other = asyncio.create_task(other_work())
    try:
        await asyncio.sleep(0)
        before = ticks
        assert (await hasher.verify(stored, "5809")).ok
        during = ticks - before
    finally:
        other.cancel()
        await asyncio.gather(other, return_exceptions=True)
    assert during > 10  # on the loop: none between the verification's start and end


async def test_a_current_argon2id_hash_is_not_rehashed_and_unknown_is_never_right() -> None:
    hasher = PinHasher(FAST)
    assert await hasher.verify(FAST.hash("5809"), "5809") == Verdict(True)
    assert not (await hasher.verify("", "not-a-pin-0000")).ok  # the dummy's own secret
    assert not (await hasher.verify("garbage", "5809")).ok


def test_register_files_in_toml_and_csv_are_read_with_every_problem_listed(
        tmp_path: Path) -> None:
    good = FAST.hash("1")
    (tmp_path / "r.csv").write_text(
        "personal_number,given_name,family_name,pin_hash\n"
        f"19900515-1007,Ann,Ek,{good}\n")
    (entry,) = pin_register.read(tmp_path / "r.csv")
    assert (entry.personal_number, entry.given_name) == ("199005151007", "Ann")
    (tmp_path / "r.toml").write_text(
        f'[[citizen]]\npersonal_number = "199005151007"\npin_hash = "{good}"\n')
    assert pin_register.read(tmp_path / "r.toml")[0].pin_hash == good
    (tmp_path / "bad.csv").write_text(
        "personal_number,given_name,family_name,pin_hash\n"
        f"19900515-1008,A,B,{good}\n"
        "19900515-1007,A,B,plaintext1234\n"
        f"19900515-1007,A,B,{good}\n"
        f"199005151007,A,B,{good}\n")
    with pytest.raises(pin_register.RegisterError) as err:
        pin_register.read(tmp_path / "bad.csv")
    text = str(err.value)
    assert "3 problem(s)" in text and "line 2" in text and "line 3" in text and "line 5" in text
    assert "plaintext1234" not in text
    (tmp_path / "nohead.csv").write_text("a,b\n1,2\n")
    with pytest.raises(pin_register.RegisterError, match="header lacks"):
        pin_register.read(tmp_path / "nohead.csv")
    with pytest.raises(pin_register.RegisterError, match="format"):
        pin_register.read(tmp_path / "r.txt")

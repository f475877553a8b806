"""What a new PIN and an activation code must look like (pure: no I/O). SECURITY.md,
"PIN life cycle", says it in words.

A PIN the citizen chooses: 4–12 digits, not one digit repeated (0000), not a run up or
down (1234, 9876), not the birth date in the personal number (YYMMDD, MMDD, DDMM, YYYY).
A PIN from an imported register is not checked (it was chosen before), and the login
accepts 1–12 digits.

An activation code: 12 characters of Crockford's base32 alphabet (no I, L, O, U: nothing
to misread on paper), 60 bits from the OS's CSPRNG, printed in groups of four. What the
citizen types is normalised first: case, spaces and dashes do not matter, and the
letters Crockford maps (O→0, I/L→1) are read as the digits they look like.
"""

from __future__ import annotations

import itertools
import secrets

PIN_MIN, PIN_MAX = 4, 12
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def pin_problems(pin: str, personal_number: str) -> list[str]:
    """The message keys (``web/i18n``) of what is wrong with a new PIN; [] when fine."""
    if not pin.isdigit() or not PIN_MIN <= len(pin) <= PIN_MAX:
        return ["pin_rule_length"]
    problems = []
    if len(set(pin)) == 1:
        problems.append("pin_rule_repeated")
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if steps in ({1}, {-1}):
        problems.append("pin_rule_run")
    if pin in _date_parts(personal_number):
        problems.append("pin_rule_birthdate")
    return problems


def _date_parts(personal_number: str) -> set[str]:
    digits = personal_number[-10:] if len(personal_number) >= 10 else ""
    if not digits:
        return set()
    yy, mm, dd = digits[0:2], digits[2:4], digits[4:6]
    parts = {yy + mm + dd, mm + dd, dd + mm}
    if len(personal_number) == 12:
        parts |= {personal_number[0:4], personal_number[0:8]}
    return parts


def new_code() -> str:
    """A fresh activation code (normalised form, no dashes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    """What the citizen typed, as the code it must be ('' when it cannot be one)."""
    code = "".join(c for c in typed.upper() if c not in " -\t").translate(_MISREAD)
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return ""
    return code


def printed(code: str) -> str:
    """The code as printed in the letter: ABCD-EFGH-JKMN."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))

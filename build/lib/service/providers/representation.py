"""The representation register: who may act for which organisation, in what role.

A TOML file of ``[[representation]]`` entries (``personal_number``, ``org_number``,
``org_name``, ``role``), validated whole (every problem reported, with its place).
Nodes read it again when it changes (``Representations.reload_if_changed``), so
``idportal representation add|remove`` takes effect at run time; every change is
appended to the audit file beside it (``<register>.audit.jsonl``: when, who, what).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from service.orgnummer import InvalidOrgNumber
from service.orgnummer import parse as parse_org
from service.personnummer import InvalidPersonalNumber
from service.personnummer import parse as parse_person

ROLES = ("signatory", "employee", "agent")


class RegisterError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid representation register:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True, slots=True)
class Representation:
    personal_number: str  # 12 digits
    org_number: str  # 10 digits
    org_name: str
    role: str


def _entry(raw: object, where: str) -> tuple[Representation | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{where}: must be a table"]
    problems = []
    person = org = ""
    try:
        person = parse_person(str(raw.get("personal_number", ""))).digits
    except InvalidPersonalNumber as exc:
        problems.append(f"{where}.personal_number: {exc}")
    try:
        org = parse_org(str(raw.get("org_number", ""))).digits
    except InvalidOrgNumber as exc:
        problems.append(f"{where}.org_number: {exc}")
    name = raw.get("org_name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        problems.append(f"{where}.org_name: 1 to 200 characters")
    role = raw.get("role", "signatory")
    if role not in ROLES:
        problems.append(f"{where}.role: one of {', '.join(ROLES)}")
    extra = set(raw) - {"personal_number", "org_number", "org_name", "role"}
    if extra:
        problems.append(f"{where}: unknown key {sorted(extra)[0]!r}")
    if problems:
        return None, problems
    return Representation(person, org, str(name).strip(), str(role)), []


def parse(text: str) -> list[Representation]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegisterError([f"not valid TOML: {exc}"]) from None
    entries, problems, seen = [], [], set()
    for i, raw in enumerate(data.get("representation", [])):
        entry, wrong = _entry(raw, f"representation[{i}]")
        problems += wrong
        if entry is not None:
            if (entry.personal_number, entry.org_number) in seen:
                problems.append(f"representation[{i}]: the same person and organisation twice")
            seen.add((entry.personal_number, entry.org_number))
            entries.append(entry)
    if problems:
        raise RegisterError(problems)
    return entries


def load(path: str | Path) -> list[Representation]:
    p = Path(path)
    if not p.exists():
        return []  # no register: nobody represents anyone
    return parse(p.read_text())


@dataclass
class Representations:
    """The register as a node holds it, read again when the file changes."""

    path: Path
    entries: list[Representation] = field(default_factory=list)
    mtime: float = -1.0

    def reload_if_changed(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            mtime = 0.0
        if mtime != self.mtime:
            self.entries, self.mtime = load(self.path), mtime

    def for_person(self, personal_number: str) -> list[Representation]:
        self.reload_if_changed()
        return [e for e in self.entries if e.personal_number == personal_number]


def _toml(entries: list[Representation]) -> str:
    out = ["# Who may act for which organisation. Change with `idportal representation`;",
           "# every change is in the .audit.jsonl file beside this one.", ""]
    for e in entries:
        out += ["[[representation]]", f'personal_number = "{e.personal_number}"',
                f'org_number = "{e.org_number}"', f"org_name = {json.dumps(e.org_name)}",
                f'role = "{e.role}"', ""]
    return "\n".join(out)


def change(path: str | Path, *, add: Representation | None = None,
           remove: tuple[str, str] | None = None, actor: str = "") -> str:
    """Add or remove one entry, write the register atomically and audit the change.
    Returns what was done."""
    p = Path(path)
    entries = load(p)
    if add is not None:
        if any((e.personal_number, e.org_number) == (add.personal_number, add.org_number)
               for e in entries):
            raise RegisterError(["that person already represents that organisation"])
        entries.append(add)
        what = {"action": "add", "personal_number": add.personal_number,
                "org_number": add.org_number, "org_name": add.org_name, "role": add.role}
    elif remove is not None:
        kept = [e for e in entries if (e.personal_number, e.org_number) != remove]
        if len(kept) == len(entries):
            raise RegisterError(["no such representation"])
        entries = kept
        what = {"action": "remove", "personal_number": remove[0], "org_number": remove[1]}
    else:
        raise ValueError("add or remove")
    text = _toml(entries)
    parse(text)  # what is written must read back
    p.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=p.parent, delete=False, suffix=".tmp") as f:
        f.write(text)
    os.replace(f.name, p)
    record = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "by": actor or getpass.getuser(), **what}
    with open(str(p) + ".audit.jsonl", "a") as audit:
        audit.write(json.dumps(record, ensure_ascii=False) + "\n")
    return f"{what['action']}: {what['personal_number']} for {what['org_number']}"

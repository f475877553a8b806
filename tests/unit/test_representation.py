"""Organisation numbers and the representation register: validated, changed only through
``idportal representation`` with an audit line per change, read again by a node when the
file changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from service import cli
from service.orgnummer import InvalidOrgNumber, parse
from service.providers import representation as reg

PERSON = "198112189876"
ORG = "5560360793"  # a valid organisation number (Luhn)


def test_a_valid_organisation_number_with_or_without_its_hyphen() -> None:
    assert parse("556036-0793").digits == ORG == parse(ORG).digits
    assert str(parse(ORG)) == "556036-0793"


@pytest.mark.parametrize(("raw", "why"), [
    ("556036-0794", "check digit"), ("5560360", "NNNNNN-NNNN"), ("811218-9876", "at least 20"),
    ("55603607931", "NNNNNN-NNNN"), ("abcdef-ghij", "NNNNNN-NNNN")])
def test_an_invalid_organisation_number_says_what_is_wrong(raw: str, why: str) -> None:
    with pytest.raises(InvalidOrgNumber, match=why):
        parse(raw)


def test_the_register_reports_every_problem_with_its_place() -> None:
    with pytest.raises(reg.RegisterError) as err:
        reg.parse('[[representation]]\npersonal_number = "1"\norg_number = "556036-0794"\n'
                  'org_name = ""\nrole = "boss"\n')
    text = str(err.value)
    for where in ("personal_number", "org_number", "org_name", "role"):
        assert f"representation[0].{where}" in text


def test_add_list_remove_through_the_command_line_with_an_audit_line_each(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = str(tmp_path / "representation.toml")
    assert cli.main(["representation", "add", "--file", f, "--personal-number", PERSON,
                     "--org-number", "556036-0793", "--org-name", "Exempel AB"]) == 0
    assert cli.main(["representation", "list", "--file", f]) == 0
    assert "556036-0793  signatory  Exempel AB" in capsys.readouterr().out
    # The same again is refused; a bad number is refused with the reason.
    assert cli.main(["representation", "add", "--file", f, "--personal-number", PERSON,
                     "--org-number", "556036-0793", "--org-name", "Exempel AB"]) == 1
    assert cli.main(["representation", "add", "--file", f, "--personal-number", PERSON,
                     "--org-number", "556036-0794", "--org-name", "X"]) == 1
    assert "check digit" in capsys.readouterr().err
    assert cli.main(["representation", "remove", "--file", f, "--personal-number", PERSON,
                     "--org-number", "556036-0793"]) == 0
    audit = [json.loads(line) for line in Path(f + ".audit.jsonl").read_text().splitlines()]
    assert [a["action"] for a in audit] == ["add", "remove"]
    assert all(a["at"] and a["by"] and a["org_number"] == ORG for a in audit)
    assert reg.load(f) == []


def test_a_node_sees_a_change_without_a_restart(tmp_path: Path) -> None:
    f = tmp_path / "representation.toml"
    held = reg.Representations(f)
    assert held.for_person(PERSON) == []
    reg.change(f, add=reg.Representation(PERSON, ORG, "Exempel AB", "signatory"), actor="test")
    os.utime(f, (1, 1))  # a different mtime even within the same clock tick
    assert [e.org_name for e in held.for_person(PERSON)] == ["Exempel AB"]

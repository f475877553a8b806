"""``idportal pin``: what the operator gets wrong is said in one line with exit 2,
before anything is changed or a store is reached."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import cli


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["pin", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("args", "says"), [
    (("issue", "194001011008"), "--operator NAME and --reason TEXT"),
    (("revoke", "194001011008", "--operator", "Kim"), "--operator NAME and --reason TEXT"),
    (("issue", "", "--operator", "Kim", "--reason", "r"), "needs a personal number"),
    (("import", "", "--operator", "Kim", "--reason", "r"), "needs a register file"),
    (("status", "19400101-1009"), "not a personal number"),
])
def test_a_wrong_command_line_is_refused_in_one_line(
        capsys: pytest.CaptureFixture[str], args: tuple[str, ...], says: str) -> None:
    code, err = run(capsys, *args)
    assert code == 2 and says in err and "Traceback" not in err


def test_a_broken_register_is_refused_with_every_problem_and_nothing_written(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDPORTAL_REDIS__URL", "redis://127.0.0.1:9/0")  # never reached
    register = tmp_path / "r.csv"
    register.write_text("personal_number,given_name,family_name,pin_hash\n"
                        "19400101-1009,A,B,$2b$04$x\n")
    code, err = run(capsys, "import", str(register), "--operator", "Kim", "--reason", "r")
    assert code == 2 and "line 2" in err and "Traceback" not in err

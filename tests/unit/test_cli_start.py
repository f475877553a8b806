"""A node that cannot use its configuration says what is wrong and exits 2, before it
listens: no traceback for an operator to read through."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import cli
from service.oidc import keyring

REPO = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, *, keys_dir: Path, clients: Path) -> Path:
    path = tmp_path / "idportal.toml"
    path.write_text(f'''issuer = "http://127.0.0.1:1"
keys_dir = "{keys_dir}"
clients_file = "{clients}"
[redis]
url = "redis://127.0.0.1:1/0"
wait_replicas = 0
[pin]
register_file = "{REPO / 'config' / 'pin-register.toml'}"
''')
    return path


def test_a_missing_clients_file_is_named_and_the_node_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keyring.generate(tmp_path / "keys")
    cfg = _settings(tmp_path, keys_dir=tmp_path / "keys", clients=tmp_path / "nope.toml")
    assert cli.main(["--config", str(cfg), "serve", "--bind", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "cannot start" in err and "nope.toml" in err and "Traceback" not in err


def test_a_keys_folder_without_keys_is_named_and_the_node_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keys").mkdir()
    cfg = _settings(tmp_path, keys_dir=tmp_path / "keys", clients=REPO / "config" / "clients.toml")
    assert cli.main(["--config", str(cfg), "serve", "--bind", "127.0.0.1:1",
                     "--server", "uvicorn"]) == 2
    err = capsys.readouterr().err
    assert "cannot start" in err and "key" in err and "Traceback" not in err


def test_idportal_load_offers_exactly_the_scenarios_that_exist() -> None:
    from loadtests.scenarios import SCENARIOS
    from service import cli

    load = cli.parser()._subparsers._group_actions[0].choices["load"]  # type: ignore[union-attr]
    scenario = next(a for a in load._actions if a.dest == "scenario")
    assert list(scenario.choices) == list(SCENARIOS)

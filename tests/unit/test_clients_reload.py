"""A node reads the clients file again when it changes (health.watch calls
``reload_clients`` every second): e-services come and go without a restart, and a file
that does not validate is refused, logged once, and the clients the node has are kept."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from service.health import reload_clients
from service.oidc import clients

DATA = Path(__file__).resolve().parents[1] / "data" / "clients.toml"


def node_for(path: Path) -> Any:
    return SimpleNamespace(settings=SimpleNamespace(clients_file=str(path),
                                                    issuer="https://idp.test"),
                           registry=clients.load(path), clients_mtime=path.stat().st_mtime)


def copy(folder: Path) -> Path:
    """The test clients file and the JWKS it names, in ``folder``."""
    shutil.copy(DATA.parent / "rp-jwt-jwks.json", folder / "rp-jwt-jwks.json")
    shutil.copy(DATA, folder / "clients.toml")
    return folder / "clients.toml"


def touch(path: Path, text: str, mtime: float) -> None:
    path.write_text(text)
    os.utime(path, (mtime, mtime))


def test_an_added_e_service_is_known_without_a_restart(tmp_path: Path) -> None:
    f = copy(tmp_path)
    n = node_for(f)
    assert n.registry.get("rp-new") is None
    touch(f, f.read_text() + '\n[[client]]\nclient_id = "rp-new"\nsecret_sha256 = "'
          + "0" * 64 + '"\nredirect_uris = ["https://new.example/cb"]\n', 1_000)
    reload_clients(n)
    assert n.registry.get("rp-new") is not None and n.registry.get("rp-basic") is not None


def test_a_file_that_does_not_validate_is_refused_and_the_old_clients_kept(
        tmp_path: Path) -> None:
    f = copy(tmp_path)
    n = node_for(f)
    touch(f, '[[client]]\nclient_id = "x"\nscopes = "openid profile"\n', 2_000)
    reload_clients(n)
    assert n.registry.get("rp-basic") is not None  # still the old clients
    assert n.clients_mtime == 2_000  # reported once, not again every second

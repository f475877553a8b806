"""The node's image: built from the Containerfile with buildah on a Debian root file
system made by mmdebstrap (no registry pulled from), run with podman (runc, explicit
nofile/nproc limits, --init) against a real local Redis: /readyz answers 200."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ha import image, procs
from service.oidc import keyring

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    os.geteuid() != 0, reason="buildah and podman run here as root")]
ROOT = Path(__file__).resolve().parents[2]


def settings_dir(folder: Path, redis_port: int, port: int) -> Path:
    """What /etc/idportal holds in the container: settings, keys, clients, registers."""
    folder.mkdir()
    keyring.generate(folder / "keys")
    shutil.copy(ROOT / "tests" / "data" / "clients.toml", folder / "clients.toml")
    for jwks in (ROOT / "tests" / "data").glob("*jwks*.json"):
        shutil.copy(jwks, folder / jwks.name)
    shutil.copy(ROOT / "config" / "pin-register.toml", folder / "pin-register.toml")
    shutil.copy(ROOT / "config" / "representation.toml", folder / "representation.toml")
    (folder / "idportal.toml").write_text(
        f'issuer = "http://127.0.0.1:{port}"\n'
        'keys_dir = "/etc/idportal/keys"\n'
        'clients_file = "/etc/idportal/clients.toml"\n'
        'representation_file = "/etc/idportal/representation.toml"\n'
        f'[redis]\nurl = "redis://127.0.0.1:{redis_port}/0"\nwait_replicas = 0\n'
        '[pin]\nregister_file = "/etc/idportal/pin-register.toml"\n')
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, 10001, 10001)  # the image's user reads them
    return folder


def test_a_node_from_the_image_serves_against_the_local_redis(
        redis_proc: Any, tmp_path: Path) -> None:
    tag = image.build(tmp_path / "work", say=False)
    assert tag.startswith("localhost/idportal:")
    port = procs.free_port()
    name = f"idportal-test-{port}"
    try:
        image.run_node(tag, name=name, config_dir=settings_dir(tmp_path / "etc", redis_proc.port,
                                                             port), port=port)
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
            except httpx.HTTPError:
                status = 0
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200
        disco = httpx.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration").json()
        assert disco["issuer"] == f"http://127.0.0.1:{port}"
    finally:
        image.remove(name)

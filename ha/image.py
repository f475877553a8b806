"""``idportal image build``: the node's image from the ``Containerfile``, without pulling
from any registry (measured to work on this machine).

1. A Debian bookworm root file system with Python, made by ``mmdebstrap`` from Debian's
   packages and imported into podman's store as ``localhost/idportal-base:bookworm``
   (once; made again only when missing).
2. Wheels of the project and everything it needs, built here with ``pip wheel`` (plus
   ``async-timeout``: the image's Python is Debian's 3.11.2, for which redis-py wants it).
3. ``buildah bud`` (runc, chroot isolation) with the ``Containerfile``: a venv from the
   wheels, an unprivileged user. Tagged ``localhost/idportal:<commit>`` and ``:dev``.

Run it with podman (``--runtime runc``, explicit ``nofile``/``nproc`` limits and
``--init``: crun fails on this host's cgroups), as ``run_node`` does.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ha import procs
from ha.stack import REPO

BASE = "localhost/idportal-base:bookworm"
IMAGE = "localhost/idportal"
PACKAGES = ("python3", "python3-venv", "ca-certificates")
# Within this host's hard limits (a container may not raise them).
RUN_FLAGS = ("--runtime", "runc", "--ulimit", "nofile=4096:4096", "--ulimit",
             "nproc=2048:2048", "--init")


class ImageError(RuntimeError):
    pass


def _run(argv: list[str], *, timeout: float = 900) -> str:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if r.returncode != 0:
        raise ImageError(f"{' '.join(argv[:3])} failed:\n{(r.stdout + r.stderr)[-3000:]}")
    return r.stdout


def tools() -> dict[str, str]:
    """podman, buildah, mmdebstrap, runc and catatonit (for --init), from apt if missing."""
    return {name: procs.require_binary(name, name)
            for name in ("podman", "buildah", "mmdebstrap", "runc", "catatonit")}


def has_image(podman: str, name: str) -> bool:
    return subprocess.run([podman, "image", "exists", name], check=False).returncode == 0


def base(t: dict[str, str], work: Path, *, say: bool = True) -> str:
    if has_image(t["podman"], BASE):
        return BASE
    rootfs = work / "rootfs.tar"
    if say:
        print(f"making the base with mmdebstrap ({', '.join(PACKAGES)})", flush=True)
    _run([t["mmdebstrap"], "--variant=apt", f"--include={','.join(PACKAGES)}", "bookworm",
          str(rootfs)])
    _run([t["podman"], "import", str(rootfs), BASE])
    rootfs.unlink()
    return BASE


def commit() -> str:
    r = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                       text=True, cwd=REPO, check=False)
    return r.stdout.strip() or "unknown"


def build(work: Path, *, say: bool = True) -> str:
    """Build the image; its name (``localhost/idportal:<commit>``, also tagged ``:dev``)."""
    t = tools()
    work.mkdir(parents=True, exist_ok=True)
    base(t, work, say=say)
    context = work / "context"
    shutil.rmtree(context, ignore_errors=True)
    (context / "wheels").mkdir(parents=True)
    if say:
        print("building wheels of the project and its dependencies", flush=True)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(context / "wheels"),
          str(REPO), "async-timeout>=4.0.3"])
    shutil.copy(REPO / "Containerfile", context / "Containerfile")
    tag = f"{IMAGE}:{commit()}"
    if say:
        print(f"buildah bud → {tag}", flush=True)
    _run([t["buildah"], "bud", "--runtime", "runc", "--isolation", "chroot", "-q",
          "--build-arg", f"COMMIT={commit()}", "-t", tag, "-t", f"{IMAGE}:dev",
          "-f", str(context / "Containerfile"), str(context)])
    shutil.rmtree(context, ignore_errors=True)
    return tag


def run_node(image: str, *, name: str, config_dir: Path, port: int) -> str:
    """Start a node from ``image`` on 127.0.0.1:``port`` (host network), its settings
    from ``config_dir`` mounted read-only at /etc/idportal. Returns the container id."""
    podman = procs.require_binary("podman", "podman")
    return _run([podman, "run", "-d", "--name", name, *RUN_FLAGS, "--network", "host",
                 "-v", f"{config_dir}:/etc/idportal:ro", image, "--config",
                 "/etc/idportal/idportal.toml", "serve", "--bind", f"127.0.0.1:{port}"]).strip()


def remove(name: str) -> None:
    podman = procs.require_binary("podman", "podman")
    subprocess.run([podman, "rm", "-f", "-t", "5", name], capture_output=True, check=False)

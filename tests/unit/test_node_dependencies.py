"""A production node installs only what it serves with (`pip install .`): the operator
tools (extra "ops") and the dev tools (extra "dev") stay out of its image."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
OPS_ONLY = ("matplotlib", "locust", "zxing-cpp", "numpy", "authlib", "itsdangerous")

# A child interpreter in which the operator tools cannot be imported, as on a node image.
WITHOUT_OPS = '''
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"matplotlib", "locust", "zxingcpp", "numpy", "authlib",
                                  "itsdangerous", "schemathesis", "hypothesis", "pytest"}:
            raise ImportError(name + " is not on a node")
        return None
sys.meta_path.insert(0, Block())
'''


def names(requirements: list[str]) -> set[str]:
    return {r.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
            for r in requirements}


def test_the_nodes_dependencies_hold_no_operator_or_test_tooling() -> None:
    runtime = names(PROJECT["dependencies"])
    assert not runtime & set(OPS_ONLY)
    assert set(OPS_ONLY) <= names(PROJECT["optional-dependencies"]["ops"])


def test_a_node_builds_and_serves_without_the_operator_tools() -> None:
    code = WITHOUT_OPS + '''
import service.serve, service.app, service.cli
from service.app import ROUTES
assert ROUTES
'''
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 0, r.stderr


def test_an_operator_command_without_the_tools_says_what_to_install() -> None:
    code = WITHOUT_OPS + '''
from service import cli
sys.exit(cli.main(["cluster", "status", "--run-dir", "run/nowhere"]))
'''
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "pip install 'idportal[ops]'" in r.stderr and "Traceback" not in r.stderr

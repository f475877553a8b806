#!/usr/bin/env bash
# Sets everything up and runs the checks and tests: ruff, mypy, pytest (unit,
# integration against real redis-server/Sentinel processes, end-to-end over Uvicorn and Hypercorn).
# Extra arguments go to pytest, e.g. ./test.sh -k failover
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"

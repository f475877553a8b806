#!/usr/bin/env bash
# Sets everything up and runs the main job: idportal on loopback with a citizen able to
# log in (see README). Extra arguments go to the command, e.g. ./run.sh --nodes 5
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
exec .venv/bin/idportal dev "$@"

#!/usr/bin/env bash
# Sets everything up and runs the main job: the local HA cluster on 127.0.0.1 (3 Redis,
# 3 Sentinels, 3 auth nodes, HAProxy with its card listener, the BankID and Freja eID
# simulators, PostgreSQL for the audit trail, two demo e-services, a supervisor) with a
# citizen able to log in. It prints where to start. Stop it with:
#   .venv/bin/idportal cluster down
# Extra arguments go to `idportal cluster up`, e.g. ./run.sh --nodes 5
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
exec .venv/bin/idportal cluster up "$@"

#!/usr/bin/env bash
# Sets up everything idportal needs on a fresh Debian machine: redis-server, haproxy,
# iptables, prometheus (and promtool), prometheus-redis-exporter, socat, keepalived,
# buildah, podman, mmdebstrap, runc, catatonit, chromium and chromium-driver (apt, when
# missing), a virtualenv in .venv with the project,
# its operator tools (extra "ops") and its dev tools (extra "dev").
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
# iptables: the primary-partition drill cuts the Redis primary off the loopback network.
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || need+=(iptables)
# promtool (Debian's prometheus package): the alert rules are unit-tested with it;
# Prometheus itself and the Redis exporter: `cluster up --monitoring` (the tests' cluster).
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-redis-exporter >/dev/null 2>&1 || need+=(prometheus-redis-exporter)
# socat: the runbooks read HAProxy's stick tables through its admin socket.
command -v socat >/dev/null 2>&1 || need+=(socat)
# PostgreSQL (Debian's): the audit trail; the cluster runs its own server on its own port.
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
# keepalived: the front door of two (cluster up --front-door ha, its tests).
command -v keepalived >/dev/null 2>&1 || [ -x /usr/sbin/keepalived ] || need+=(keepalived)
# The node's image: buildah builds it on a root file system mmdebstrap makes; podman runs
# it with runc and catatonit (--init).
for tool in buildah podman mmdebstrap catatonit; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || need+=(runc)
# A real browser for the tests that need one (the language a citizen chose).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${need[*]} with apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: please install: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.idportal-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[dev,ops]"
  echo "$want" > "$stamp"
fi

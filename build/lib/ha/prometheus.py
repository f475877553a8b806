"""Monitoring for the local cluster (``cluster up --monitoring``): Prometheus (Debian's
package) on loopback with the repo's alert rules, scraping every node's internal
metrics listener, HAProxy's built-in Prometheus exporter (on its stats listener) and
every Redis through ``prometheus-redis-exporter`` (Debian's package, one per Redis, as
the ACL user ``monitoring``, its password in a file of mode 600)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ha import procs
from ha.redis_auth import RedisAuth

RULES = Path(__file__).resolve().parent / "monitoring" / "alerts.yml"
SCRAPE_INTERVAL = "5s"


def config(*, nodes_metrics: list[int], haproxy_stats: int, exporters: list[int]) -> str:
    """prometheus.yml for the cluster (JSON is YAML)."""
    def job(name: str, ports: list[int], path: str = "/metrics") -> dict[str, Any]:
        return {"job_name": name, "metrics_path": path,
                "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in ports]}]}

    return json.dumps({
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [str(RULES)],
        "scrape_configs": [job("idportal", nodes_metrics), job("haproxy", [haproxy_stats]),
                           job("redis", exporters)],
    }, indent=1)


def exporter_password_file(auth: RedisAuth, redis_ports: tuple[int, ...], path: Path) -> Path:
    """The exporter's ``-redis.password-file``: the monitoring user's password per
    Redis address, mode 600."""
    secret = auth.password("monitoring")
    path.write_text(json.dumps({f"redis://127.0.0.1:{p}": secret for p in redis_ports}))
    path.chmod(0o600)
    return path


def exporter_argv(binary: str, redis_port: int, listen: int, password_file: Path) -> list[str]:
    return [binary, "-redis.addr", f"redis://127.0.0.1:{redis_port}", "-redis.user",
            "monitoring", "-redis.password-file", str(password_file),
            "-web.listen-address", f"127.0.0.1:{listen}"]


def prometheus_argv(binary: str, cfg: Path, data: Path, port: int) -> list[str]:
    return [binary, f"--config.file={cfg}", f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=2d",
            "--web.enable-lifecycle"]


def binaries() -> tuple[str, str]:
    """Prometheus and the Redis exporter, installed with apt when missing."""
    return (procs.require_binary("prometheus", "prometheus"),
            procs.require_binary("prometheus-redis-exporter", "prometheus-redis-exporter"))

"""The Grafana dashboard for the login's SLOs, the store and failovers, as code
(grafanalib; Grafana itself is not in Debian). ``idportal dashboard`` writes it to
``ha/monitoring/dashboard.json``; a test checks that the file is what this code makes
and that Prometheus accepts every query in it."""

from __future__ import annotations

import json
from pathlib import Path

from grafanalib._gen import DashboardEncoder
from grafanalib.core import (
    Dashboard,
    GridPos,
    RowPanel,
    Stat,
    Target,
    Time,
    TimeSeries,
)

OUT = Path(__file__).resolve().parent / "monitoring" / "dashboard.json"
DATASOURCE = "Prometheus"
WIDTH, HEIGHT = 12, 8

# (title, unit, [(legend, expr)]) per panel, in rows.
ROWS: list[tuple[str, list[tuple[str, str, list[tuple[str, str]]]]]] = [
    ("Login SLO: 99.9 % of requests without a server error", [
        ("Error ratio (5 min, 1 h, 6 h)", "percentunit", [
            ("5 min", "idportal:request_errors:ratio_rate5m"),
            ("1 h", "idportal:request_errors:ratio_rate1h"),
            ("6 h", "idportal:request_errors:ratio_rate6h")]),
        ("Error budget burn rate (1 h)", "none", [
            ("burn", "idportal:request_errors:ratio_rate1h / 0.001")]),
        ("Logins per second by method and outcome", "reqps", [
            ("{{method}} {{outcome}}", "sum by (method, outcome) (idportal:logins:rate5m)")]),
        ("Request latency p99 by route", "s", [
            ("{{route}}", "histogram_quantile(0.99, sum by (le, route) "
                          "(rate(idportal_http_request_seconds_bucket[5m])))")]),
    ]),
    ("The store (Redis through Sentinel)", [
        ("Store call latency p99 by operation", "s", [
            ("{{op}}", "histogram_quantile(0.99, sum by (le, op) "
                       "(rate(idportal_store_call_seconds_bucket[5m])))")]),
        ("Store retries and failures", "ops", [
            ("retries {{error}}", "sum by (error) (rate(idportal_store_retries_total[5m]))"),
            ("failed after the budget", "sum(rate(idportal_store_unavailable_total[5m]))")]),
        ("Redis memory of maxmemory", "percentunit", [
            ("{{instance}}", "redis_memory_used_bytes / (redis_memory_max_bytes > 0)")]),
        ("Replica lag", "s", [
            ("{{slave_ip}}:{{slave_port}}", "redis_connected_slave_lag_seconds")]),
    ]),
    ("Failovers and redundancy", [
        ("Primary changes seen by the nodes", "short", [
            ("{{instance}}", "increase(idportal_store_failovers_seen_total[5m])")]),
        ("Redis role (1 = primary)", "short", [
            ("{{instance}}", 'max by (instance) (redis_instance_info{role="master"})')]),
        ("Nodes serving behind HAProxy", "short", [
            ("active", 'haproxy_backend_active_servers{proxy="nodes"}')]),
        ("Back-channel logout queue", "short", [
            ("waiting", "max(idportal_backchannel_queue)")]),
    ]),
]
STATS: list[tuple[str, str, str]] = [
    ("Availability (1 h)", "percentunit", "1 - idportal:request_errors:ratio_rate1h"),
    ("Logins/s", "reqps", 'sum(idportal:logins:rate5m{outcome="success"})'),
    ("Nodes up", "short", 'sum(up{job="idportal"})'),
    ("Alerts firing", "short", 'count(ALERTS{alertstate="firing"}) or vector(0)'),
]


def queries() -> list[str]:
    """Every PromQL expression on the dashboard."""
    return [e for _, panels in ROWS for _, _, ts in panels for _, e in ts] + \
        [e for _, _, e in STATS]


def build() -> Dashboard:
    panels: list[object] = []
    y = 0
    for i, (title, unit, expr) in enumerate(STATS):
        panels.append(Stat(title=title, dataSource=DATASOURCE, format=unit,
                           targets=[Target(expr=expr, refId="A")],
                           gridPos=GridPos(h=4, w=6, x=6 * i, y=y)))
    y += 4
    for row_title, row in ROWS:
        panels.append(RowPanel(title=row_title, gridPos=GridPos(h=1, w=24, x=0, y=y)))
        y += 1
        for j, (title, unit, series) in enumerate(row):
            panels.append(TimeSeries(
                title=title, dataSource=DATASOURCE, unit=unit,
                targets=[Target(expr=e, legendFormat=legend, refId=chr(65 + k))
                         for k, (legend, e) in enumerate(series)],
                gridPos=GridPos(h=HEIGHT, w=WIDTH, x=WIDTH * (j % 2), y=y + HEIGHT * (j // 2))))
        y += HEIGHT * ((len(row) + 1) // 2)
    return Dashboard(title="idportal: login SLOs, the store, failovers", uid="idportal-slo",
                     tags=["idportal"], timezone="browser", refresh="10s",
                     time=Time("now-1h", "now"), panels=panels).auto_panel_ids()


def render() -> str:
    return json.dumps(build().to_json_data(), cls=DashboardEncoder, indent=1,
                      sort_keys=True) + "\n"


def write(path: Path = OUT) -> Path:
    path.write_text(render())
    return path

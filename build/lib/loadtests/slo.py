"""Check a Locust run against the SLOs in ``slo.toml``. Pure: stats in, breaches out."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT = Path(__file__).with_name("slo.toml")
JOURNEY = "JOURNEY"


@dataclass(frozen=True)
class Entry:
    """One row of Locust's statistics (a request name, or a journey)."""

    kind: str  # HTTP method, or JOURNEY
    name: str
    requests: int
    failures: int
    p95_ms: float
    p99_ms: float


def load(path: str | Path | None = None) -> dict[str, Any]:
    return tomllib.loads(Path(path or os.environ.get("IDPORTAL_SLO_FILE") or DEFAULT).read_text())


def _limits(slo: dict[str, Any], section: str, name: str) -> dict[str, float]:
    table = slo.get(section, {})
    return {**table.get("*", {}), **table.get(name, {})}


def breaches(slo: dict[str, Any], entries: list[Entry], *, duration_s: float) -> list[str]:
    out: list[str] = []
    reqs = [e for e in entries if e.kind != JOURNEY]
    journeys = [e for e in entries if e.kind == JOURNEY]
    total = sum(e.requests for e in reqs)
    failed = sum(e.failures for e in reqs)
    if total and failed / total > slo.get("max_error_rate", 1.0):
        out.append(f"error rate {failed / total:.2%} > {slo['max_error_rate']:.2%}")
    jtotal = sum(e.requests for e in journeys)
    jfailed = sum(e.failures for e in journeys)
    if jtotal and jfailed / jtotal > slo.get("max_journey_failure_rate", 1.0):
        out.append(f"journey failure rate {jfailed / jtotal:.2%} > "
                   f"{slo['max_journey_failure_rate']:.2%}")
    for section, rows in (("requests", reqs), ("journeys", journeys)):
        for e in rows:
            if not e.requests:
                continue
            label = e.name if section == "journeys" else f"{e.kind} {e.name}"
            lim = _limits(slo, section, label)
            for p in ("p95_ms", "p99_ms"):
                if p in lim and getattr(e, p) > lim[p]:
                    out.append(f"{section[:-1]} {label}: {p[:3]} {getattr(e, p):.0f} ms > {lim[p]:.0f}")
    want = slo.get("throughput", {}).get("min_journeys_per_s", 0)
    ok_journeys = jtotal - jfailed
    if want and duration_s > 0 and ok_journeys / duration_s < want:
        out.append(f"throughput {ok_journeys / duration_s:.1f} journeys/s < {want}")
    return out


def from_locust(stats: Any) -> list[Entry]:
    """Entries from a Locust ``RequestStats``."""
    return [Entry(kind=s.method, name=s.name, requests=s.num_requests, failures=s.num_failures,
                  p95_ms=s.get_response_time_percentile(0.95) or 0.0,
                  p99_ms=s.get_response_time_percentile(0.99) or 0.0)
            for s in stats.entries.values()]

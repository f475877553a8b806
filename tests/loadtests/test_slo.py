from __future__ import annotations

from loadtests.slo import JOURNEY, Entry, breaches

SLO = {"max_error_rate": 0.01, "max_journey_failure_rate": 0.01,
       "requests": {"*": {"p95_ms": 500, "p99_ms": 1500}, "POST /token": {"p95_ms": 100}},
       "journeys": {"*": {"p95_ms": 3000}}, "throughput": {"min_journeys_per_s": 2}}


def entry(kind: str, name: str, n: int = 100, f: int = 0, p95: float = 10, p99: float = 20) -> Entry:
    return Entry(kind, name, n, f, p95, p99)


def test_a_run_within_every_slo_has_no_breaches() -> None:
    rows = [entry("GET", "/authorize"), entry("POST", "/token", p95=50),
            entry(JOURNEY, "bankid_login", n=50)]
    assert breaches(SLO, rows, duration_s=10) == []


def test_error_rate_and_journey_failures_are_breaches() -> None:
    rows = [entry("GET", "/authorize", f=5), entry(JOURNEY, "bankid_login", n=50, f=5)]
    out = breaches(SLO, rows, duration_s=10)
    assert any("error rate" in b for b in out) and any("journey failure" in b for b in out)


def test_per_step_latency_limits_override_the_default() -> None:
    out = breaches(SLO, [entry("POST", "/token", p95=200), entry(JOURNEY, "x", n=50)], duration_s=10)
    assert out == ["request POST /token: p95 200 ms > 100"]


def test_too_few_journeys_per_second_is_a_breach() -> None:
    out = breaches(SLO, [entry(JOURNEY, "x", n=10)], duration_s=10)
    assert out == ["throughput 1.0 journeys/s < 2"]

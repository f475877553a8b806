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


def test_capacity_knee_is_where_throughput_stops_rising_or_an_slo_breaks() -> None:
    from loadtests.capacity import Step, knee, plan, saturated

    def step(users: int, jps: float, p95: float, ok: bool = True) -> Step:
        return Step(users, jps, jps * 8, p95, p95, 0.0, {"node-1": 0.5}, 0.05, 40.0,
                    [] if ok else ["p95"])

    steps = [step(2, 10, 50), step(4, 20, 60), step(8, 30, 90), step(16, 32, 300, ok=False)]
    p = plan(steps, nodes=3, population=600_000, share=0.03, factor=3, growth=1.2,
             cores_per_node=2)
    assert p.knee_journeys_per_s == 30 and p.peak_journeys_per_s == 18.0
    # 30 journeys/s on 0.5 node cores: 60 per core; ceil(18 / (60 × 2 × 0.6)) + 1 spare = 2,
    # at least 3.
    assert p.per_core_journeys_per_s == 60 and p.nodes_needed == 3
    # Throughput that stops rising (under 5 % more) ends the climb before any SLO breaks.
    flat = [step(2, 10, 50), step(4, 20, 60), step(8, 20.5, 90), step(16, 40, 100)]
    assert knee(flat).users == 4
    assert saturated([step(8, 30, 90), step(12, 31, 150), step(16, 31.5, 200)])
    assert not saturated([step(2, 10, 50), step(4, 20, 60), step(8, 30, 90)])

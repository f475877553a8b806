"""What the login benchmark counts (the parts that need no server)."""

from __future__ import annotations

from typing import Any

from benchmarks.login_bench import commandstats, processor


class _Info:
    """Stands in for the one call commandstats makes: INFO commandstats."""

    def __init__(self, calls: dict[str, int]) -> None:
        self.calls = calls

    def info(self, section: str) -> dict[str, Any]:
        assert section == "commandstats"
        return {f"cmdstat_{k}": {"calls": v, "usec": 1} for k, v in self.calls.items()}


def test_redis_commands_per_login_leave_out_the_replicas_acknowledgements() -> None:
    # REPLCONF ACK comes from the replica, as many as WAITs happen to be coalesced;
    # INFO and PING are the bench's own probes. Only the node's commands count.
    stats = _Info({"hset": 10, "eval": 5, "wait": 5, "replconf": 7, "psync": 1, "info": 3,
                   "ping": 2})
    assert commandstats(stats) == 20  # type: ignore[arg-type]


def test_the_results_name_the_processor_they_were_measured_on() -> None:
    name = processor()
    assert name and name != "unknown processor"


def test_the_ab_benchmark_reports_this_checkout_over_the_base_per_mode_and_the_median() -> None:
    from benchmarks.ab_bench import compare, medians

    def side(bankid: float, refresh: float) -> dict[str, Any]:
        return {"bankid": {"per_node_core": bankid}, "refresh": {"per_node_core": refresh}}

    pairs = [compare({"base": side(200, 1000), "this": side(214, 1090)}, ["bankid", "refresh"]),
             compare({"base": side(180, 900), "this": side(190, 1000)}, ["bankid", "refresh"]),
             compare({"base": side(210, 1200), "this": side(230, 1300)}, ["bankid", "refresh"])]
    assert pairs[0]["bankid"] == {"base": 200, "this": 214, "ratio": 1.07}
    assert medians(pairs, ["bankid", "refresh"]) == {"bankid": 1.07, "refresh": 1.09}

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

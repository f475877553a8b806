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


def test_the_cpu_of_one_thread_is_read_apart_from_the_rest_of_its_process() -> None:
    # The PIN figures split the node's CPU: its event loop (the main thread) and the
    # argon2id thread. A thread that works while the main thread waits shows up in the
    # process's time and in its own, not in the main thread's.
    import hashlib
    import os
    import threading

    from ha.procs import cpu_seconds

    pid = os.getpid()
    ids: list[int] = []

    def work() -> None:
        ids.append(threading.get_native_id())
        for _ in range(20):  # about 0.2 s of CPU, outside the GIL
            hashlib.pbkdf2_hmac("sha256", b"pin", b"salt", 100_000)
        # /proc keeps a finished thread's entry only while it runs: read it here.
        ids.append(round(cpu_seconds(pid, ids[0]) * 100))

    main_before, all_before = cpu_seconds(pid, pid), cpu_seconds(pid)
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    main_used, all_used = cpu_seconds(pid, pid) - main_before, cpu_seconds(pid) - all_before
    worker_ticks = ids[1]
    assert worker_ticks >= 5  # at least 0.05 s counted to the worker
    assert main_used < all_used
    assert cpu_seconds(pid, 999_999_999) == 0.0  # no such thread: nothing, not an error


def test_the_rounds_medians_carry_each_rounds_event_loop_cpu_per_login() -> None:
    from benchmarks.login_bench import medians

    def round_(bankid: float, loop_ms: float | None) -> dict[str, Any]:
        mode: dict[str, Any] = {"per_node_core": bankid}
        if loop_ms is not None:  # rounds saved before the figure existed lack it
            mode["event_loop_cpu_ms_per_op"] = loop_ms
        return {"modes": {"bankid": mode}, "peer": {}}

    m = medians([round_(300, 2.9), round_(320, 2.7), round_(310, None)])
    assert m["bankid"]["ours_per_node_core"] == 310
    assert m["bankid"]["event_loop_ms_per_op"] == [2.9, 2.7, None]


def test_the_mixed_load_sends_every_other_user_through_a_pin_login() -> None:
    from benchmarks.driver import journeys_of

    assert journeys_of("mixed", 4) == ["bankid", "pin", "bankid", "pin"]
    assert journeys_of("mixed", 3).count("pin") == 1
    assert journeys_of("refresh", 2) == ["refresh", "refresh"]

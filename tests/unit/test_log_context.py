"""What a request binds to its log lines (``observability.bind``): every following line
of the request carries it, a line's own value wins, the next request starts clean, and
a task sees what was bound when it started, never what another task binds later."""

from __future__ import annotations

import asyncio
from typing import Any

from service import observability
from service.observability import begin_request, bind, merge_bound


def line(**own: Any) -> dict[str, Any]:
    return dict(merge_bound(None, "info", dict(own)))


def test_bound_values_are_on_every_line_and_a_lines_own_value_wins() -> None:
    rid = begin_request({"type": "http", "headers": []}, "node-1")
    bind(client_id="rp-basic")
    assert line(event="x") == {"event": "x", "request_id": rid, "node": "node-1",
                               "client_id": "rp-basic"}
    assert line(event="y", client_id="other")["client_id"] == "other"


def test_a_new_request_starts_without_the_last_ones_values() -> None:
    begin_request({"type": "http", "headers": []}, "node-1")
    bind(client_id="rp-basic")
    second = begin_request({"type": "http", "headers": []}, "node-1")
    assert line() == {"request_id": second, "node": "node-1"}
    observability.clear_bound()
    assert line() == {}


async def test_a_task_keeps_what_was_bound_at_its_start_and_binds_only_for_itself() -> None:
    observability.clear_bound()
    bind(request_id="outer")
    seen: dict[str, Any] = {}
    release = asyncio.Event()

    async def child() -> None:
        bind(client_id="child-only")
        await release.wait()
        seen.update(line())

    task = asyncio.create_task(child())
    await asyncio.sleep(0)
    bind(node="later")  # after the child started: not the child's
    release.set()
    await task
    assert seen == {"request_id": "outer", "client_id": "child-only"}
    assert line() == {"request_id": "outer", "node": "later"}

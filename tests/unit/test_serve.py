"""How a node process is set up to serve (the parts that need no server)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from service.cli import parser
from service.serve import GC_THRESHOLDS, run, settle_heap
from service.settings import DEFAULT_SERVER, SERVERS, Settings


def test_settling_the_heap_freezes_start_up_objects_and_collects_less_often() -> None:
    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.isenabled()  # cycles are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_node_runs_under_uvicorn_by_default_or_hypercorn_and_nothing_else() -> None:
    assert SERVERS == ("uvicorn", "hypercorn") and DEFAULT_SERVER == "uvicorn"
    assert parser().parse_args(["serve"]).server == DEFAULT_SERVER
    assert parser().parse_args(["cluster", "up"]).server == DEFAULT_SERVER
    with pytest.raises(ValueError, match="unknown server 'granian'"):
        asyncio.run(run(Settings(), bind="127.0.0.1:0", server="granian"))

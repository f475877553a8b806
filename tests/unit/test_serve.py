"""How a node process is set up to serve (the parts that need no server)."""

from __future__ import annotations

import gc

from service.serve import GC_THRESHOLDS, settle_heap


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

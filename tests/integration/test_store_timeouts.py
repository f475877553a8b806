"""A store that stops answering (a frozen primary, a cut link): every attempt is bounded
as a whole, the call fails cleanly within the retry budget, and when the store answers
again no late reply reaches the wrong caller."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from ha import procs
from service.settings import RedisSettings
from service.store.client import StoreClient, connect
from service.store.retry import StoreUnavailable
from tests.helpers.redis_procs import single_redis

pytestmark = pytest.mark.integration


async def test_a_frozen_store_fails_within_the_budget_and_no_late_reply_crosses_callers(
        tmp_path: Path) -> None:
    with single_redis(tmp_path) as r:
        cfg = RedisSettings(url=f"redis://127.0.0.1:{r.port}/0", wait_replicas=0,
                            socket_timeout_s=0.3, retry_budget_s=1.5)
        store = StoreClient(connect(cfg), cfg)
        try:
            await store.run("set", lambda c: c.mset({"idp:t:a": "a", "idp:t:b": "b"}))
            procs.signal_pid(r.pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                with pytest.raises(StoreUnavailable):  # (not a hang: wait_for fails the test)
                    await asyncio.wait_for(store.run("get", lambda c: c.get("idp:t:a")), 10)
                took = time.monotonic() - started
                # The budget, plus at most one attempt's bound and a jittered pause.
                assert 1.5 <= took < 1.5 + 0.3 + 0.6, took
            finally:
                procs.signal_pid(r.pid, signal.SIGCONT)
            # The replies to the abandoned GETs of "a" arrive now, on connections that
            # were closed when their attempts were cancelled: never as this answer.
            for _ in range(20):
                assert await store.run("get", lambda c: c.get("idp:t:b")) == "b"
        finally:
            await store.close()

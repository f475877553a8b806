"""The one retry policy for every store call (tenacity).

It rides out a Sentinel failover: connection errors, timeouts, READONLY (redis-py turns
it into ConnectionError), NOREPLICAS, a master Sentinel cannot name yet, and writes no
replica confirmed. Between attempts it drops pooled connections so the next one asks
Sentinel for the primary again (redis/redis-py#3874: the client's own reconnect may not).
Bounded by time and jittered; when the budget is spent it raises ``StoreUnavailable``.
Only operations that are idempotent go through it; the store makes its consuming
operations idempotent by giving each request an attempt id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from redis import exceptions as rx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

T = TypeVar("T")
log = structlog.get_logger("idportal.store")


class StoreUnavailable(Exception):
    """The session store could not be reached within the retry budget."""


class ReplicationNotConfirmed(Exception):
    """A write was not confirmed by the required replicas in time (WAIT)."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, rx.ConnectionError | rx.TimeoutError | rx.BusyLoadingError
                  | rx.ReadOnlyError | ReplicationNotConfirmed | OSError):
        return True
    if isinstance(exc, rx.ResponseError):
        return _server_error(str(exc)).startswith(TRANSIENT_CODES)
    return False


# Errors Redis gives while a failover settles (no replica confirms yet, a replica not
# promoted yet, a dataset still loading).
TRANSIENT_CODES = ("NOREPLICAS", "READONLY", "LOADING", "MASTERDOWN", "TRYAGAIN")
_IN_PIPELINE = "of pipeline caused error: "


def _server_error(text: str) -> str:
    """The server's own error text. Inside a pipeline redis-py rewrites it as
    "Command # 1 (HSET ...) of pipeline caused error: ('NOREPLICAS ...',)"."""
    if _IN_PIPELINE in text:
        return text.rsplit(_IN_PIPELINE, 1)[1].lstrip("('\"")
    return text


async def call_with_retry(
    op: Callable[[], Awaitable[T]],
    *,
    budget_s: float,
    on_retry: Callable[[BaseException], Awaitable[None]],
) -> T:
    async def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if exc is not None:
            await on_retry(exc)

    try:
        return await op()  # the common case: no failover, no tenacity machinery
    except Exception as exc:
        if not is_transient(exc):
            raise
        await on_retry(exc)
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(budget_s),
            wait=wait_random_exponential(multiplier=0.05, max=0.5),
            retry=retry_if_exception(is_transient),
            before_sleep=before_sleep,
            reraise=False,
        ):
            with attempt:
                return await op()
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise StoreUnavailable(f"session store unavailable: {last!r}") from last
    raise AssertionError("unreachable")  # pragma: no cover

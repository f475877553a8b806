"""Which store errors the one retry policy rides out (pure: no server)."""

from __future__ import annotations

from redis import exceptions as rx
from redis.asyncio.client import Pipeline

from service.store.retry import ReplicationNotConfirmed, is_transient


def _in_pipeline(exc: rx.ResponseError, *command: str) -> rx.ResponseError:
    """The error as redis-py raises it from a pipeline (its own rewriting)."""
    Pipeline.annotate_exception(None, exc, 1, command)  # type: ignore[arg-type]
    return exc


def test_failover_errors_are_transient_also_inside_a_pipeline() -> None:
    for text in ("NOREPLICAS Not enough good replicas to write.", "LOADING Redis is loading",
                 "MASTERDOWN Link with MASTER is down", "TRYAGAIN Multiple keys request"):
        assert is_transient(rx.ResponseError(text)), text
        assert is_transient(_in_pipeline(rx.ResponseError(text), "HSET", "idp:sess:1", "d", "{}")), text
    assert is_transient(rx.ReadOnlyError("READONLY You can't write against a read only replica."))
    assert is_transient(ReplicationNotConfirmed("0 of 1 replicas confirmed"))
    assert is_transient(rx.ConnectionError("Connection refused"))
    assert is_transient(TimeoutError())


def test_other_errors_are_not_retried_even_when_the_data_names_a_failover_error() -> None:
    assert not is_transient(rx.ResponseError("WRONGTYPE Operation against a key"))
    # The command's own arguments appear in redis-py's rewritten message: they must not
    # make an error look transient.
    err = _in_pipeline(rx.ResponseError("WRONGTYPE Operation against a key"),
                       "HSET", "idp:sess:1", "d", "NOREPLICAS")
    assert not is_transient(err)
    err = _in_pipeline(rx.ResponseError("WRONGTYPE Operation against a key"),
                       "HSET", "idp:sess:1", "d", "of pipeline caused error: ('NOREPLICAS")
    assert not is_transient(err)
    assert not is_transient(ValueError("NOREPLICAS"))

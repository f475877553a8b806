"""The record of every operation a drill's load performed (invoke, ok/fail/unknown)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Op:
    step: str
    start: float  # monotonic seconds
    end: float = 0.0
    outcome: str = "invoke"  # ok | fail | unknown
    detail: str = ""

    @property
    def latency(self) -> float:
        return self.end - self.start


@dataclass
class Artifacts:
    """What the citizens and e-services were told, for the checks after healing."""

    sessions: list[tuple[float, str]] = field(default_factory=list)  # (acked at, cookie)
    logged_out: list[tuple[float, str]] = field(default_factory=list)
    # Sessions whose logout was sent: until it is acknowledged, the session may or may
    # not have ended (a request lost with its front door), so it is checked neither way.
    logout_sent: set[str] = field(default_factory=set)
    # Logins the citizens were told finished: (wall-clock time, personal number); each
    # must have its audit event in PostgreSQL after healing.
    logins: list[tuple[float, str]] = field(default_factory=list)
    codes: list[tuple[str, str, str]] = field(default_factory=list)  # (client, code, verifier)
    rotated: list[tuple[str, str]] = field(default_factory=list)  # (client, old refresh token)


@dataclass
class History:
    t0: float = field(default_factory=time.monotonic)
    ops: list[Op] = field(default_factory=list)
    journeys: list[Op] = field(default_factory=list)
    artifacts: Artifacts = field(default_factory=Artifacts)

    def begin(self, step: str) -> Op:
        op = Op(step, time.monotonic())
        self.ops.append(op)
        return op

    @staticmethod
    def finish(op: Op, outcome: str, detail: str = "") -> None:
        op.end = time.monotonic()
        op.outcome = outcome
        op.detail = detail[:120]

"""Audit events: what happened, when, at which e-service, how, on which node, under which
support reference, and to whom, as a keyed pseudonym of the personal number (never the
number in clear outside the audit store). Pure: no I/O.

An event travels as a Redis stream entry (flat string fields, ``to_fields``) written in
the same confirmed store operation as the change it records, and is shipped from there
into PostgreSQL (``service.audit_shipping``), idempotently by ``event_id``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, fields
from typing import Any

from service.crypto import mac

PSEUDONYM_PURPOSE = b"audit pseudonym v1"  # KeyRing.derived_key: the pseudonyms' key
KINDS = ("login", "logout", "step_up", "context", "signing", "pin_change", "support",
         "config")
OUTCOMES = ("success", "failure", "refused")


def pseudonym(key: bytes, personal_number: str) -> str:
    """The keyed pseudonym of a citizen in the audit trail: the same for one person on
    every node (the key is derived from the shared secret), useless without the key."""
    return mac(key, b"audit|" + personal_number.encode()).hex()[:32]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    kind: str  # one of KINDS
    outcome: str  # one of OUTCOMES
    ts: float  # epoch seconds
    subject: str = ""  # pseudonym of the personal number ('' when none is known)
    client_id: str = ""
    method: str = ""
    acr: str = ""
    node: str = ""
    reference: str = ""  # the support reference (the request id the citizen sees)
    detail: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_fields(self) -> dict[str, str]:
        """Flat strings for a stream entry."""
        data = {f.name: str(getattr(self, f.name)) for f in _FIELDS}
        data["detail"] = json.dumps(self.detail, separators=(",", ":"), sort_keys=True)
        data["ts"] = f"{self.ts:.3f}"
        return data

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> AuditEvent:
        return cls(kind=fields["kind"], outcome=fields["outcome"], ts=float(fields["ts"]),
                   subject=fields.get("subject", ""), client_id=fields.get("client_id", ""),
                   method=fields.get("method", ""), acr=fields.get("acr", ""),
                   node=fields.get("node", ""), reference=fields.get("reference", ""),
                   detail=json.loads(fields.get("detail") or "{}"),
                   event_id=fields["event_id"])


_FIELDS = fields(AuditEvent)  # to_fields walks these: asdict would deep-copy each value

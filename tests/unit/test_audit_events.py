"""Audit events (pure): they travel as flat stream fields and come back the same, and a
citizen appears only as a keyed pseudonym."""

from __future__ import annotations

from service.audit.events import AuditEvent, pseudonym


def test_an_event_survives_the_stream_unchanged() -> None:
    e = AuditEvent(kind="login", outcome="success", ts=1764489600.123, subject="ab" * 16,
                   client_id="mina-sidor", method="bankid", acr="loa3", node="node-1",
                   reference="req-1", detail={"evidence": "bankid:ref"})
    fields = e.to_fields()
    assert all(isinstance(v, str) for v in fields.values())
    assert AuditEvent.from_fields(fields) == e


def test_the_pseudonym_is_stable_per_key_and_reveals_nothing() -> None:
    pnr = "198112189876"
    a, b = pseudonym(b"k" * 32, pnr), pseudonym(b"k" * 32, pnr)
    assert a == b and len(a) == 32 and pnr not in a
    assert pseudonym(b"o" * 32, pnr) != a  # another deployment's key: another pseudonym
    assert pseudonym(b"k" * 32, "194001011008") != a

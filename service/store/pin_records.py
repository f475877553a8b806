"""The PIN register in the store: one record per citizen (``keys.pin_record``), the only
place a node looks a PIN up, changed only in whole confirmed steps that carry their
audit event (``scripts.UPDATE_PIN_RECORD``). The login reads a record in the same round
trip that reserves the attempt (``PinCounters.reserve``). Hashes only: a PIN or an
activation code is never stored, only its argon2id hash (or an imported register's
hash until the next login re-hashes it)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from service.audit.events import AuditEvent
from service.crypto import digest
from service.records import RegisterEntry
from service.store import keys, scripts
from service.store.client import StoreClient

ACTIVE, PENDING, REVOKED = "active", "pending", "revoked"
_FIELDS = ("h", "gn", "fn", "st", "ch", "cx")
IMPORT_BATCH = 500


def _text(value: Any) -> str:
    if value is None or value is False:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class PinRecord:
    pin_hash: str
    given_name: str
    family_name: str
    state: str  # ACTIVE | PENDING | REVOKED
    code_hash: str = ""  # a pending activation code's argon2id hash
    code_expires: int = 0

    @property
    def usable(self) -> bool:
        """Whether a PIN login may verify against it."""
        return self.state == ACTIVE and bool(self.pin_hash)

    def code_live(self, now: int) -> bool:
        return bool(self.code_hash) and self.code_expires >= now

    @staticmethod
    def from_values(values: Sequence[Any]) -> PinRecord | None:
        """From HMGET of ``_FIELDS`` (None: no record)."""
        h, gn, fn, st, ch, cx = (_text(v) for v in values)
        if not st:
            return None
        return PinRecord(h, gn, fn, st, ch, int(cx or 0))


def summary(record: PinRecord | None, now: int) -> dict[str, Any]:
    """A PIN record as the support desk sees it (never a hash)."""
    if record is None:
        return {"state": "none"}
    out: dict[str, Any] = {"state": record.state, "name": f"{record.given_name} "
                           f"{record.family_name}".strip()}
    if record.code_hash:
        out["letter"] = "valid" if record.code_live(now) else "expired"
        out["letter_expires"] = time.strftime("%Y-%m-%d %H:%M", time.localtime(
            record.code_expires))
    return out


def person_digest(personal_number: str) -> str:
    """Shared with the PIN counters: one citizen, one name in every PIN key."""
    return digest("pin:" + personal_number)


class PinRecords:
    def __init__(self, client: StoreClient, *, stream_max: int) -> None:
        self.client = client
        self.stream_max = stream_max

    @staticmethod
    def key(personal_number: str) -> str:
        return keys.pin_record(person_digest(personal_number))

    async def get(self, personal_number: str) -> PinRecord | None:
        values = await self.client.run("pin_record_get", lambda r: r.hmget(
            self.key(personal_number), list(_FIELDS)))
        return PinRecord.from_values(values)

    def _args(self, *, set_: dict[str, str], delete: Iterable[str] = (),
              when: tuple[str, str] = ("", ""), done: tuple[str, str] = ("", ""),
              event: AuditEvent | None = None) -> list[Any]:
        dels = list(delete)
        audit = event.to_fields() if event else {}
        return [*when, *done, self.stream_max, 2 * len(set_), len(dels), 2 * len(audit),
                *(x for kv in set_.items() for x in kv), *dels,
                *(x for kv in audit.items() for x in kv)]

    async def _update(self, name: str, personal_number: str, **kw: Any) -> bool:
        done = await self.client.confirmed_eval(
            name, scripts.UPDATE_PIN_RECORD, [self.key(personal_number), keys.audit_stream()],
            self._args(**kw))
        return bool(done)

    async def import_entries(self, entries: Sequence[RegisterEntry], *,
                             replace: bool = False, source: str = "import") -> int:
        """Write imported entries, by default only for citizens the store does not know
        (a PIN changed, reset or revoked here stays so); ``replace``: overwrite. How many
        records were written. Batches of ``IMPORT_BATCH``, each confirmed on a replica."""
        written = 0
        for start in range(0, len(entries), IMPORT_BATCH):
            batch = entries[start:start + IMPORT_BATCH]

            def build(pipe: Any, batch: Sequence[RegisterEntry] = batch) -> None:
                for e in batch:
                    pipe.eval(scripts.UPDATE_PIN_RECORD, 2, self.key(e.personal_number),
                              keys.audit_stream(), *self._args(
                                  set_={"h": e.pin_hash, "gn": e.given_name,
                                        "fn": e.family_name, "st": ACTIVE, "src": source},
                                  delete=("ch", "cx"), when=("", "") if replace else
                                  ("st", "")))

            results = await self.client.confirmed("pin_import", build)
            written += sum(int(x) for x in results)
        return written

    async def issue_code(self, personal_number: str, *, code_hash: str, expires: int,
                         given_name: str, family_name: str, reset: bool,
                         seen: PinRecord | None, event: AuditEvent) -> bool:
        """A new activation code (the old one, if any, stops working). ``reset``: the
        current PIN stops working now. ``seen``: the record as read before (the step
        fails, False, if it changed in between)."""
        state = seen.state if seen and seen.usable and not reset else PENDING
        set_ = {"ch": code_hash, "cx": str(expires), "st": state,
                "gn": given_name, "fn": family_name}
        if reset:
            set_["h"] = ""
        return await self._update("pin_issue", personal_number, set_=set_,
                                  when=("st", seen.state if seen else ""), event=event)

    async def activate(self, personal_number: str, *, code_hash: str, pin_hash: str,
                       event: AuditEvent) -> bool:
        """Set the PIN the citizen chose with the activation code whose hash was
        verified; False if that code was used (or replaced) meanwhile: single use."""
        return await self._update("pin_activate", personal_number,
                                  set_={"h": pin_hash, "st": ACTIVE, "src": "activation"},
                                  delete=("ch", "cx"), when=("ch", code_hash),
                                  done=("h", pin_hash), event=event)

    async def set_pin(self, personal_number: str, *, pin_hash: str, given_name: str,
                      family_name: str, event: AuditEvent) -> None:
        """A citizen proven at LoA3 chose a new PIN on their own page: it is active now,
        a pending letter's code is void."""
        await self._update("pin_set", personal_number,
                           set_={"h": pin_hash, "st": ACTIVE, "gn": given_name,
                                 "fn": family_name, "src": "self-service"},
                           delete=("ch", "cx"), done=("h", pin_hash), event=event)

    async def revoke(self, personal_number: str, *, seen: PinRecord,
                     event: AuditEvent) -> bool:
        """The PIN and any pending code stop working."""
        return await self._update("pin_revoke", personal_number,
                                  set_={"st": REVOKED, "h": ""}, delete=("ch", "cx"),
                                  when=("st", seen.state), event=event)

    async def rehash(self, personal_number: str, *, old: str, new: str) -> bool:
        """Replace a verified hash in an older scheme by its argon2id one (only if it is
        still the one verified)."""
        return await self._update("pin_rehash", personal_number, set_={"h": new},
                                  when=("h", old), done=("h", new))

"""The PIN life cycle on the operators' side (``idportal pin``), with the nodes' settings:

- ``issue``: a one-time activation code for a citizen, written into a printable letter
  (HTML, mode 600, in ``pin.letters_dir``) to go out by post; the citizen chooses a PIN
  with it at ``/pin/aktivera`` (``service.pin_pages``). A PIN the citizen has keeps
  working until then.
- ``reset``: the same, and the current PIN stops working now.
- ``revoke``: the PIN and any letter's code stop working.
- ``import``: a register file (``providers.pin_register``) into the store.

Each change needs the operator's name and a reason and is one store step with its audit
event (kind ``pin_change``, or ``config`` for an import). The code itself is only in the
letter: the store keeps its argon2id hash.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from service.audit.events import AuditEvent
from service.crypto import new_id
from service.login import pin_rules
from service.personnummer import parse
from service.pin_pages import ACTIVATION_PATH
from service.providers import pin_register
from service.providers.pin_hashes import PinHasher, hasher
from service.settings import Settings
from service.state import Node
from service.store import Store
from service.store.pin_records import summary
from service.store.retry import StoreUnavailable
from service.support import subject_of
from service.web import render

log = structlog.get_logger("idportal.pin")


class PinAdminError(ValueError):
    """What the operator must change before the command can run."""


@dataclass(frozen=True, slots=True)
class Letter:
    path: Path
    letter_id: str
    expires: int


def _event(settings: Settings, personal_number: str, action: str, operator: str,
           reason: str, **detail: Any) -> AuditEvent:
    return AuditEvent(kind="pin_change", outcome="success", ts=time.time(),
                      subject=subject_of(settings, personal_number), node="support-desk",
                      detail={"action": action, "operator": operator, "reason": reason,
                              **detail})


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


async def issue(settings: Settings, store: Store, personal_number: str, *, operator: str,
                reason: str, reset: bool = False, given_name: str = "",
                family_name: str = "", locale: str = "sv",
                out_dir: Path | None = None) -> Letter:
    """A new activation code in a letter (``reset``: and the PIN stops working now)."""
    pnr = parse(personal_number)
    seen = await store.pin_records.get(pnr.digits)
    given = given_name or (seen.given_name if seen else "")
    family = family_name or (seen.family_name if seen else "")
    if not given or not family:
        raise PinAdminError("this citizen has no PIN record yet: give --given-name and "
                            "--family-name for the letter")
    code = pin_rules.new_code()
    code_hash = await PinHasher(hasher(settings.pin)).hash(code)
    expires = int(time.time()) + settings.lifetimes.pin_activation
    letter_id = new_id(9)
    path = (out_dir or Path(settings.pin.letters_dir)) / f"pin-letter-{letter_id}.html"
    render.configure_site(help_url=settings.help.url, contact=settings.help.contact,
                          accessibility_url=settings.help.accessibility_statement_url)
    _write_private(path, render.html(
        "pin_letter.html", locale=locale, given_name=given, family_name=family,
        personal_number=f"{pnr.digits[:8]}-****", code=pin_rules.printed(code),
        letter_id=letter_id,
        expires=time.strftime("%Y-%m-%d", time.localtime(expires)),
        url=settings.issuer.rstrip("/") + ACTIVATION_PATH, reset=reset))
    action = "reset" if reset else "issue"
    try:
        stored = await store.pin_records.issue_code(
            pnr.digits, code_hash=code_hash, expires=expires, given_name=given,
            family_name=family, reset=reset, seen=seen,
            event=_event(settings, pnr.digits, action, operator, reason, letter=letter_id))
    except BaseException:  # a letter whose code may not be stored must not go out
        path.unlink(missing_ok=True)
        raise
    if not stored:
        path.unlink(missing_ok=True)
        raise PinAdminError("the citizen's PIN changed while the letter was made: run the "
                            "command again")
    return Letter(path, letter_id, expires)


async def revoke(settings: Settings, store: Store, personal_number: str, *, operator: str,
                 reason: str) -> bool:
    """The PIN and any letter's code stop working; False when there was no PIN."""
    pnr = parse(personal_number)
    seen = await store.pin_records.get(pnr.digits)
    if seen is None:
        return False
    if not await store.pin_records.revoke(pnr.digits, seen=seen, event=_event(
            settings, pnr.digits, "revoke", operator, reason)):
        raise PinAdminError("the citizen's PIN changed meanwhile: run the command again")
    return True


async def status(store: Store, personal_number: str) -> dict[str, Any]:
    return summary(await store.pin_records.get(parse(personal_number).digits),
                   int(time.time()))


async def import_file(settings: Settings, store: Store, path: Path, *, fmt: str,
                      replace: bool, operator: str, reason: str) -> tuple[int, int]:
    """Read a register file (every problem at once) and write it: (read, written)."""
    entries = pin_register.read(path, fmt)
    written = await store.pin_records.import_entries(entries, replace=replace,
                                                     source=f"import:{path.name}")
    await store.audit.record(AuditEvent(
        kind="config", outcome="success", ts=time.time(), node="support-desk",
        detail={"action": "pin-import", "file": path.name, "read": len(entries),
                "written": written, "replace": replace, "operator": operator,
                "reason": reason}))
    return len(entries), written


async def import_at_start(n: Node) -> None:
    """``pin.register_file``: its citizens the store lacks are written at start (each
    node tries; only the first writes). A store outage is logged, not fatal: the node
    serves, and the next start tries again."""
    if not n.pin_seed:
        return
    try:
        written = await n.store.pin_records.import_entries(n.pin_seed, source="register_file")
    except StoreUnavailable as exc:
        log.error("pin_register_import_failed", error=str(exc))
        return
    log.info("pin_register_imported", entries=len(n.pin_seed), written=written)
    n.pin_seed = []

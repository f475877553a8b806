"""PIN registers as files: what ``idportal pin import`` (and a node's
``pin.register_file`` at start) reads into the store (``service.store.pin_records``),
the only place a node looks a PIN up.

Two formats, every problem reported at once with its line:
- TOML, ``[[citizen]]`` tables with ``personal_number``, ``given_name``,
  ``family_name``, ``pin_hash`` (what ``idportal pin seed`` writes);
- CSV with a header row naming the same four columns (other columns are ignored).

``pin_hash`` may be in any scheme of ``service.providers.pin_hashes.SCHEMES``: an older
one is re-hashed to argon2id at the citizen's next successful login.
"""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path
from typing import Any

from service.personnummer import InvalidPersonalNumber, parse
from service.providers.pin_hashes import UnknownScheme, scheme
from service.records import RegisterEntry

__all__ = ["RegisterEntry", "RegisterError", "parse_text", "read"]
FORMATS = ("toml", "csv")
COLUMNS = ("personal_number", "given_name", "family_name", "pin_hash")


class RegisterError(ValueError):
    pass


def read(path: str | Path, fmt: str = "auto") -> list[RegisterEntry]:
    """Every entry of a register file; ``RegisterError`` listing every problem."""
    path = Path(path)
    fmt = (path.suffix.lstrip(".").lower() if fmt == "auto" else fmt)
    if fmt not in FORMATS:
        raise RegisterError(f"PIN register {path}: format must be one of {', '.join(FORMATS)}"
                            " (name the file .toml or .csv, or give --format)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegisterError(f"PIN register {path}: {exc}") from exc
    return parse_text(text, fmt, source=str(path))


def parse_text(text: str, fmt: str, *, source: str = "register") -> list[RegisterEntry]:
    rows: list[tuple[str, dict[str, Any]]]
    if fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RegisterError(f"PIN register {source}: {exc}") from exc
        citizens = data.get("citizen", [])
        if not isinstance(citizens, list):
            raise RegisterError(f"PIN register {source}: [[citizen]] must be tables")
        rows = [(f"citizen[{i}]", raw if isinstance(raw, dict) else {})
                for i, raw in enumerate(citizens)]
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise RegisterError(f"PIN register {source}: the header lacks {', '.join(missing)}")
        rows = [(f"line {i + 2}", raw) for i, raw in enumerate(reader)]
    entries: dict[str, RegisterEntry] = {}
    problems: list[str] = []
    for where, raw in rows:
        try:
            pnr = parse(str(raw.get("personal_number", "")).strip()).digits
        except InvalidPersonalNumber as exc:
            problems.append(f"{where}: {exc}")
            continue
        pin_hash = str(raw.get("pin_hash", "")).strip()
        try:
            scheme(pin_hash)
        except UnknownScheme as exc:
            problems.append(f"{where}: pin_hash is {exc}")
            continue
        if pnr in entries:
            problems.append(f"{where}: {pnr[:8]}-**** appears twice")
            continue
        entries[pnr] = RegisterEntry(pnr, str(raw.get("given_name", "")).strip(),
                                     str(raw.get("family_name", "")).strip(), pin_hash)
    if problems:
        raise RegisterError(f"PIN register {source}: {len(problems)} problem(s): "
                            + "; ".join(problems[:20]))
    return list(entries.values())

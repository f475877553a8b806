"""Signing keys shared by all nodes: one file per key in the keys folder.

Each file ``<kid>.json`` holds ``{"jwk": <private JWK>, "created": s, "retired_at": s|null}``.
The newest key of each algorithm that is not retired signs; a retired key stays in
the JWKS until every token it signed has expired (``publish_for`` seconds), then
``idportal keys rotate`` prunes it. ``subject.secret`` keys the opaque ``sub``.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import ECKey, KeySet, RSAKey

from service.crypto import b64url, mac
from service.oidc import compact_jws

ALGS = ("ES256", "RS256")


class KeysMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class KeyFile:
    kid: str
    alg: str
    created: int
    retired_at: int | None
    jwk: dict[str, Any]


@dataclass(frozen=True)
class KeyRing:
    """The keys loaded from one folder: who signs, what is published."""

    signing: dict[str, ECKey | RSAKey]
    published: KeySet
    subject_secret: bytes
    loaded_from_mtime: float
    # When the oldest key that signs now was made (epoch seconds): rotation is due
    # when it is old (the alert SigningKeyOld).
    signing_since: int = 0
    # kid → (alg, public key) of every published key: what ``compact_jws.verify`` needs.
    verifying: dict[str, tuple[str, Any]] = field(default_factory=dict)

    def sign(self, claims: dict[str, Any], *, alg: str = "ES256", typ: str = "JWT") -> str:
        key = self.signing[alg]
        return compact_jws.sign({"alg": alg, "kid": key.kid, "typ": typ}, claims,
                                key.private_key)

    def jwks(self) -> dict[str, Any]:
        return dict(self.published.as_dict(private=False))

    def derived_key(self, purpose: bytes) -> bytes:
        """A 256-bit key for ``purpose``, derived from the shared secret (HKDF-SHA256):
        every node derives the same one, and no purpose's key reveals another's."""
        return _derive(self.subject_secret, purpose)

    def subject(self, personal_number: str, sector: str = "") -> str:
        """A stable, opaque ``sub``, never the personal number (Swedish OIDC profile):
        pairwise for e-services of ``sector`` (OIDC Core §8.1: the e-services of one
        sector see the same ``sub``, of others another), the public one without a
        sector. Keyed by ``subject.secret``, which key rotation never touches."""
        message = (b"pairwise|" + sector.encode() + b"|" if sector else b"") + \
            personal_number.encode()
        digest = mac(self.subject_secret, message)
        return b64url(digest[:20])


@functools.lru_cache(maxsize=16)
def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"idportal " + purpose).derive(secret)


def _new_key(alg: str, now: int) -> KeyFile:
    kid = f"{alg.lower()}-{time.strftime('%Y%m%d', time.gmtime(now))}-{secrets.token_hex(4)}"
    params = {"kid": kid, "alg": alg, "use": "sig"}
    key: ECKey | RSAKey = (ECKey.generate_key("P-256", parameters=params, private=True)  # type: ignore[arg-type]
                           if alg == "ES256" else
                           RSAKey.generate_key(2048, parameters=params, private=True))  # type: ignore[arg-type]
    return KeyFile(kid=kid, alg=alg, created=now, retired_at=None,
                   jwk=dict(key.as_dict(private=True)))


def _write(folder: Path, kf: KeyFile) -> None:
    path = folder / f"{kf.kid}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"jwk": kf.jwk, "created": kf.created, "retired_at": kf.retired_at}, out)
    tmp.replace(path)


def read_files(folder: Path) -> list[KeyFile]:
    files = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        jwk = data["jwk"]
        files.append(KeyFile(kid=jwk["kid"], alg=jwk["alg"], created=int(data["created"]),
                             retired_at=data.get("retired_at"), jwk=jwk))
    return files


def generate(folder: Path, *, now: int | None = None) -> list[KeyFile]:
    """Create the folder's keys if it has none (one per algorithm, plus the subject secret)."""
    now = now or int(time.time())
    folder.mkdir(parents=True, exist_ok=True)
    existing = read_files(folder)
    made = []
    for alg in ALGS:
        if not any(k.alg == alg and k.retired_at is None for k in existing):
            kf = _new_key(alg, now)
            _write(folder, kf)
            made.append(kf)
    secret = folder / "subject.secret"
    if not secret.exists():
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return made


def rotate(folder: Path, *, publish_for: int, now: int | None = None) -> tuple[list[str], list[str]]:
    """Retire the signing keys, make new ones, prune retired keys past ``publish_for``.

    Returns (new kids, pruned kids)."""
    now = now or int(time.time())
    pruned = []
    for kf in read_files(folder):
        if kf.retired_at is None:
            _write(folder, KeyFile(kf.kid, kf.alg, kf.created, now, kf.jwk))
        elif kf.retired_at + publish_for < now:
            (folder / f"{kf.kid}.json").unlink()
            pruned.append(kf.kid)
    made = generate(folder, now=now)
    return [k.kid for k in made], pruned


def load(folder: Path, *, publish_for: int, now: int | None = None) -> KeyRing:
    now = now or int(time.time())
    if not folder.is_dir():
        raise KeysMissing(f"no keys folder {folder}: run 'idportal keys generate'")
    files = read_files(folder)
    signing: dict[str, ECKey | RSAKey] = {}
    created: dict[str, int] = {}
    published: list[Any] = []
    for kf in sorted(files, key=lambda k: k.created):
        key = (ECKey if kf.alg == "ES256" else RSAKey).import_key(kf.jwk)
        if kf.retired_at is None:
            signing[kf.alg] = key
            created[kf.alg] = kf.created
            published.append(key)
        elif kf.retired_at + publish_for >= now:
            published.append(key)
    missing = [a for a in ALGS if a not in signing]
    if missing:
        raise KeysMissing(f"no active {', '.join(missing)} key in {folder}")
    secret_file = folder / "subject.secret"
    if not secret_file.exists():
        raise KeysMissing(f"no subject.secret in {folder}")
    return KeyRing(signing=signing, published=KeySet(published),
                   verifying={k.kid: (k.alg, k.public_key) for k in published if k.kid},
                   subject_secret=bytes.fromhex(secret_file.read_text().strip()),
                   loaded_from_mtime=folder.stat().st_mtime,
                   signing_since=min(created.values()))

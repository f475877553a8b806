"""What a running node holds: settings, store, clients, keys, the BankID and Freja
clients, the PIN hasher. Built once at start-up by the app factory; handlers read it from the app."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from starlette.requests import Request

from service.oidc import keyring
from service.oidc.clients import Registry
from service.providers.bankid_client import BankIDClient
from service.providers.freja_client import FrejaClient
from service.providers.pin_hashes import PinHasher
from service.providers.representation import Representations
from service.records import RegisterEntry
from service.settings import Settings
from service.store import Store


@dataclass
class SigningKeys:
    """The key ring, reloaded when the shared keys folder changes (rotation)."""

    folder: Path
    publish_for: int
    ring: keyring.KeyRing | None = None

    def reload_if_changed(self) -> None:
        try:
            mtime = self.folder.stat().st_mtime
        except OSError:
            return
        if self.ring is None or mtime != self.ring.loaded_from_mtime:
            self.ring = keyring.load(self.folder, publish_for=self.publish_for)

    @property
    def current(self) -> keyring.KeyRing:
        if self.ring is None:
            raise keyring.KeysMissing("keys are not loaded")
        return self.ring


@dataclass
class Node:
    settings: Settings
    store: Store
    registry: Registry
    keys: SigningKeys
    bankid: BankIDClient
    pins: PinHasher
    http: httpx.AsyncClient
    representations: Representations | None = None  # None: nobody represents anyone
    freja: FrejaClient | None = None  # None: Freja eID is not configured
    clients_mtime: float = 0.0  # of the clients file the registry was read from
    last_store_ok: float = 0.0
    draining: bool = False
    # ``pin.register_file``: imported into the store at start for citizens it lacks.
    pin_seed: list[RegisterEntry] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def now(self) -> int:
        return int(time.time())


def node(request: Request) -> Node:
    return request.app.state.node  # type: ignore[no-any-return]

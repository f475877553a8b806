"""Watchers that time detection: Sentinel naming a new primary or marking something
down, HAProxy marking a node down, keepalived moving the floating address. They poll
every 50 ms in a thread."""

from __future__ import annotations

import contextlib
import csv
import io
import threading
import time
import urllib.request

from ha import frontdoor
from ha.cluster import SERVICE, Cluster


class Watch:
    def __init__(self, c: Cluster, what: str, targets: list[str]) -> None:
        self.c = c
        self.what = what
        self.targets = targets
        self.detected_at: float | None = None
        self.primary_before = c.primary_port()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Watch:
        if self.what:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.is_set() and self.detected_at is None:
            with contextlib.suppress(Exception):
                if self._seen():
                    self.detected_at = time.monotonic()
            time.sleep(0.05)

    def _seen(self) -> bool:
        if self.what == "sentinel-primary":
            port = self.c.primary_port()
            return port is not None and port != self.primary_before
        if self.what == "haproxy":
            url = f"http://127.0.0.1:{self.c.layout.stats}/stats;csv"
            with urllib.request.urlopen(url, timeout=0.5) as resp:
                rows = csv.DictReader(io.StringIO(resp.read().decode().lstrip("# ")))
                return any(r["svname"] in self.targets and r["status"].startswith("DOWN")
                           for r in rows)
        if self.what == "front-door":
            # The floating address has moved away from the front door that failed.
            net = self.c.front_door_net()
            held = frontdoor.holder(net) if net else None
            failed = 1 if self.targets[0] == "haproxy" else 2
            return held is not None and held != failed
        if self.what == "sentinel-sdown":
            ports = {str(self.c.member(n).port) for n in self.targets}
            for s in self.c.by_role("sentinel"):
                if s.name in self.targets:
                    continue
                r = self.c.sentinel_client(s.port, decode=True)
                try:
                    entries = [*r.sentinel_slaves(SERVICE), *r.sentinel_sentinels(SERVICE)]
                finally:
                    r.close()
                for e in entries:
                    if str(e.get("port")) in ports and ("s_down" in str(e.get("flags"))
                                                        or e.get("is_sdown")):
                        return True
            return False
        return False

"""Which peers are our own proxies, and what address a request really came from.

A client can write any ``X-Forwarded-For`` it likes. The front door (HAProxy) replaces
the header with the address of the connection it accepted; a node believes only the
hops that its trusted proxies appended: it walks the list from the right and takes the
first address that is not a trusted proxy (the right-most untrusted hop). Pure: no I/O.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in networks)

    def trusts(self, peer: str) -> bool:
        if not self.networks:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    def client(self, peer: str, forwarded: Iterable[str]) -> str:
        """The client's address: ``peer`` unless it is a trusted proxy, else the
        right-most hop of ``forwarded`` (every X-Forwarded-For header, in order) that is
        not a trusted proxy. A hop that is no address ends the walk at the last trusted
        one: nothing a client wrote is ever taken."""
        if not self.trusts(peer):
            return peer
        hops = [h.strip() for value in forwarded for h in value.split(",")]
        current = peer
        for hop in reversed(hops):
            try:
                address = str(ipaddress.ip_address(hop))
            except ValueError:
                return current
            if not self.trusts(address):
                return address
            current = address
        return current


@functools.lru_cache(maxsize=16)
def trusted(networks: tuple[str, ...]) -> TrustedProxies:
    """One parsed set per settings value (Settings holds the strings)."""
    return TrustedProxies(networks)

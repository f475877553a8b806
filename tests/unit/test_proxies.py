"""Which address a request came from (service/web/proxies.py): nothing a client wrote."""

from __future__ import annotations

from service.web.proxies import TrustedProxies

HAPROXY = TrustedProxies(["127.0.0.1"])
INGRESS = TrustedProxies(["10.244.250.0/27", "127.0.0.1"])


def test_a_peer_that_is_no_trusted_proxy_is_the_client_whatever_it_forwards() -> None:
    assert HAPROXY.client("203.0.113.5", ["198.51.100.1"]) == "203.0.113.5"
    assert TrustedProxies([]).client("127.0.0.1", ["198.51.100.1"]) == "127.0.0.1"


def test_the_right_most_untrusted_hop_is_the_client() -> None:
    # A client wrote the first value; our proxy appended the address it saw.
    assert HAPROXY.client("127.0.0.1", ["6.6.6.6, 203.0.113.5"]) == "203.0.113.5"
    assert INGRESS.client("127.0.0.1", ["6.6.6.6", "203.0.113.5, 10.244.250.3"]) == "203.0.113.5"


def test_every_header_line_counts_not_only_the_first() -> None:
    # HAProxy's `option forwardfor` adds a line of its own after the client's.
    assert HAPROXY.client("127.0.0.1", ["6.6.6.6", "203.0.113.5"]) == "203.0.113.5"


def test_garbage_in_the_chain_ends_the_walk_at_the_last_trusted_hop() -> None:
    assert HAPROXY.client("127.0.0.1", ["203.0.113.5, not-an-address"]) == "127.0.0.1"
    assert HAPROXY.client("127.0.0.1", [""]) == "127.0.0.1"
    assert HAPROXY.client("127.0.0.1", []) == "127.0.0.1"


def test_ipv6_and_unparsable_peers() -> None:
    v6 = TrustedProxies(["::1"])
    assert v6.client("::1", ["2001:db8::7"]) == "2001:db8::7"
    assert not HAPROXY.trusts("unix-socket")


"""A front door without a single point (``cluster up --front-door ha``): two HAProxy
instances share a floating address that keepalived (VRRP v3, Debian's package) moves
to the other when one dies or stops answering.

On one machine the two "hosts" are network namespaces, ``<prefix>-fd1`` and
``<prefix>-fd2``, joined by a bridge in ``<prefix>-lan``; a private /24 lives only
inside them (nothing is routed anywhere), plus one veth end in the machine's own
namespace so that local tools (browsers, drills, the demo e-services) reach the
floating address. Both HAProxy processes run in the machine's namespace, reach the
nodes on 127.0.0.1 as before, and open their public listeners inside their own
namespace (HAProxy's ``bind … namespace``). Each keepalived runs inside its namespace
and checks its own HAProxy through a health listener there (by port: the namespaces
share one process list, so a check by process name would see the other's HAProxy).

Measured here (``tests/ha/test_front_door.py``, the drill reports): the address moves
about 2 s after a HAProxy dies or freezes (a health check a second, two misses), and a
healthy instance that returns does not take it back (``nopreempt``). A dead front door
drops the resets its kernel would send (``quiet_when_down``): a new connection is sent
again by the browser and lands on the other one, so only requests in flight fail
(measured: none failed, the longest waited 2.1 s).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ha import procs

HEALTH_PORT = 8406  # each HAProxy's health listener, inside its own namespace
VRID = 51


class Unavailable(RuntimeError):
    """Namespaces cannot be made here (not root, no iproute2); the message says why."""


@dataclass(frozen=True)
class Net:
    prefix: str  # names: <prefix>-lan, <prefix>-fd1, <prefix>-fd2, <prefix>-root
    octet: int  # the private /24 is 10.213.<octet>.0

    @classmethod
    def for_run(cls, run_dir: Path) -> Net:
        """Names and a /24 of their own for the cluster in ``run_dir``."""
        h = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()
        return cls(prefix="idp" + h[:4], octet=1 + int(h[4:8], 16) % 250)

    def ns(self, i: int) -> str:
        return f"{self.prefix}-fd{i}"

    @property
    def lan(self) -> str:
        return f"{self.prefix}-lan"

    @property
    def root_link(self) -> str:
        return f"{self.prefix}-root"

    def address(self, host: int) -> str:
        return f"10.213.{self.octet}.{host}"

    @property
    def vip(self) -> str:
        """The floating address citizens connect to."""
        return self.address(10)

    @property
    def local(self) -> str:
        """This machine's own address on the bridge (where local tools come from)."""
        return self.address(254)


def _ip(*args: str) -> None:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise Unavailable(f"ip {' '.join(args)}: {r.stderr.strip()}")


def check() -> None:
    """Raise ``Unavailable`` when this machine cannot host the namespaces."""
    if os.geteuid() != 0:
        raise Unavailable("network namespaces need root; the single HAProxy front door "
                          "(the default) works without")
    if not shutil.which("ip"):
        raise Unavailable("iproute2 (ip) is missing")


def create(net: Net, *, ports: tuple[int, ...] = ()) -> None:
    """The namespaces, the bridge, the veths and the addresses (idempotent: an old set of
    the same names is removed first). ``ports``: the public listeners' ports, whose
    resets each front door keeps to itself (``quiet_when_down``)."""
    check()
    destroy(net)
    _ip("netns", "add", net.lan)
    _ip("-n", net.lan, "link", "set", "lo", "up")
    _ip("-n", net.lan, "link", "add", "br0", "type", "bridge")
    _ip("-n", net.lan, "link", "set", "br0", "up")
    for i in (1, 2):
        ns, port = net.ns(i), f"{net.prefix}-v{i}"
        _ip("netns", "add", ns)
        _ip("link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("link", "set", port, "netns", net.lan)
        _ip("-n", net.lan, "link", "set", port, "master", "br0", "up")
        _ip("-n", ns, "addr", "add", f"{net.address(i)}/24", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        _ip("-n", ns, "link", "set", "lo", "up")
    _ip("link", "add", net.root_link, "type", "veth", "peer", "name", f"{net.prefix}-vr",
        "netns", net.lan)
    _ip("-n", net.lan, "link", "set", f"{net.prefix}-vr", "master", "br0", "up")
    _ip("addr", "add", f"{net.local}/24", "dev", net.root_link)
    _ip("link", "set", net.root_link, "up")
    for i in (1, 2):
        quiet_when_down(net.ns(i), ports)


def quiet_when_down(ns: str, ports: tuple[int, ...]) -> None:
    """A front door whose HAProxy has died still holds the floating address for the ~2 s
    until keepalived moves it; the kernel would answer every new connection with a reset,
    which a browser shows as an error. Dropped instead, the browser sends its SYN again
    (after 1 s, then 2 s more) and reaches the other front door: only the requests in
    flight on the dead one fail. (A reset HAProxy itself sends is dropped too: that
    client waits for its own timeout instead.)"""
    iptables = shutil.which("iptables") or shutil.which("iptables-legacy")
    if not iptables or not ports:
        return
    for port in ports:
        subprocess.run(["ip", "netns", "exec", ns, iptables, "-A", "OUTPUT", "-p", "tcp",
                        "--sport", str(port), "--tcp-flags", "RST", "RST", "-j", "DROP"],
                       capture_output=True, check=False)


def destroy(net: Net) -> None:
    """Remove the namespaces and this machine's veth end (deleting a namespace deletes
    the veths in it)."""
    for name in (net.ns(1), net.ns(2), net.lan):
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    subprocess.run(["ip", "link", "del", net.root_link], capture_output=True, check=False)


def holder(net: Net) -> int | None:
    """Which front door (1 or 2) holds the floating address now."""
    for i in (1, 2):
        r = subprocess.run(["ip", "-n", net.ns(i), "-o", "addr", "show", "dev", "eth0"],
                           capture_output=True, text=True, check=False)
        if f" {net.vip}/" in r.stdout:
            return i
    return None


def keepalived_conf(net: Net, i: int) -> str:
    """VRRP v3, adverts every 100 ms, both BACKUP with ``nopreempt`` (a returning
    instance does not take the address back), the own HAProxy checked every second."""
    curl = shutil.which("curl") or "/usr/bin/curl"
    return f"""global_defs {{
  router_id {net.prefix}-fd{i}
  vrrp_version 3
  enable_script_security
  script_user root
}}
vrrp_script own_haproxy {{
  script "{curl} -sf -m 0.5 -o /dev/null http://127.0.0.1:{HEALTH_PORT}/health"
  interval 1
  timeout 1
  fall 2
  rise 2
}}
vrrp_instance front_door {{
  state BACKUP
  nopreempt
  interface eth0
  virtual_router_id {VRID}
  priority {110 - 10 * i}
  advert_int 0.1
  virtual_ipaddress {{
    {net.vip}/24
  }}
  track_script {{
    own_haproxy
  }}
}}
"""


def keepalived_argv(net: Net, i: int, conf: Path, run_dir: Path) -> list[str]:
    binary = procs.require_binary("keepalived", "keepalived")
    return ["ip", "netns", "exec", net.ns(i), binary, "--dont-fork", "--log-console",
            "--log-detail", "-f", str(conf), "-p", str(run_dir / f"keepalived-{i}.pid"),
            "-r", str(run_dir / f"keepalived-{i}-vrrp.pid"),
            "-c", str(run_dir / f"keepalived-{i}-checkers.pid")]

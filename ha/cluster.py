"""``idportal cluster up | down | status``: the local HA cluster on 127.0.0.1.

Redis primary + 2 replicas (AOF, ``min-replicas-to-write 1``), 3 Sentinels (quorum 2),
N auth nodes (Uvicorn by default, or Hypercorn), HAProxy in front (TLS, health checks on ``/readyz``), the
BankID simulator behind mutual TLS and the two demo e-services. Ports, logs, pids and
the state file live under one run directory; ``down`` stops everything by pid.

``status --json`` is a documented interface (drills and load tests read it)::

    {"issuer": "https://127.0.0.1:8443", "stats_url": ..., "phone_url": ...,
     "bankid_url": ..., "ca_file": ..., "sentinels": ["127.0.0.1:26380", ...],
     "service_name": "idportal", "primary": "127.0.0.1:6380", "run_dir": ...,
     "nodes": [{"name": "node-1", "url": "http://127.0.0.1:9001"}, ...],
     "demos": {"mina-sidor": "https://127.0.0.1:8601", ...},
     "processes": [{"name", "role", "pid", "port", "alive", "healthy", "detail"}, ...],
     "healthy": true}
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from jinja2 import Environment, FileSystemLoader

from ha import frontdoor, pki, postgres, procs, prometheus, redis_auth, stack, supervision
from service import tls
from service.settings import DEFAULT_SERVER

SERVICE = "idportal"
TEMPLATES = Path(__file__).parent / "templates"
DRAIN_S = 1.5  # > HAProxy's fall 2 x inter 500 ms: a stopping node is out before it stops
# HAProxy's `timeout server`: above the store's retry budget (6 s), the longest a frozen
# node can hold a citizen's request (the node-freeze drill's goal).
SERVER_TIMEOUT_S = 8


@dataclass
class Layout:
    https: int = 8443
    stats: int = 8404
    bankid: int = 8444
    phone: int = 8445
    card: int = 8446  # the smart-card listener (HAProxy)
    freja: int = 8447  # the Freja eID simulator's RP API (mutual TLS)
    freja_phone: int = 8448  # and its phone and control API
    stats2: int = 8405  # the second HAProxy's stats (--front-door ha)
    front_door: str = "single"  # "ha": two HAProxy + keepalived (ha/frontdoor.py)
    postgres: int = 5433  # the audit trail's PostgreSQL (the machine's own is on 5432)
    prometheus: int = 9090  # with --monitoring
    exporters: tuple[int, ...] = (9121, 9122, 9123)  # one Redis exporter per Redis
    redis: tuple[int, ...] = (6380, 6381, 6382)
    sentinels: tuple[int, ...] = (26380, 26381, 26382)
    nodes: tuple[int, ...] = (9001, 9002, 9003)
    # Each node's internal listener for /metrics: never behind the front door.
    metrics: tuple[int, ...] = (9101, 9102, 9103)
    demos: dict[str, int] = field(default_factory=lambda: {"mina-sidor": 8601, "bygglov": 8602})

    @classmethod
    def fixed(cls, n_nodes: int) -> Layout:
        return cls(nodes=tuple(9001 + i for i in range(n_nodes)),
                   metrics=tuple(9101 + i for i in range(n_nodes)))

    @classmethod
    def free(cls, n_nodes: int, *, demos: bool = False) -> Layout:
        p = procs.free_ports(19 + 2 * n_nodes)
        return cls(https=p[0], stats=p[1], bankid=p[2], phone=p[3], redis=tuple(p[4:7]),
                   sentinels=tuple(p[7:10]), nodes=tuple(p[10:10 + n_nodes]),
                   metrics=tuple(p[10 + n_nodes:10 + 2 * n_nodes]), card=p[10 + 2 * n_nodes],
                   freja=p[11 + 2 * n_nodes], freja_phone=p[12 + 2 * n_nodes],
                   prometheus=p[13 + 2 * n_nodes],
                   exporters=tuple(p[14 + 2 * n_nodes:17 + 2 * n_nodes]),
                   stats2=p[17 + 2 * n_nodes], postgres=p[18 + 2 * n_nodes],
                   demos={} if not demos else dict(zip(("mina-sidor", "bygglov"),
                                                       procs.free_ports(2), strict=True)))


@dataclass(frozen=True)
class FrontDoor:
    """What HAProxy allows one client address on the paths that make the store hold state
    (``/authorize``, ``/login/…``, ``/token``): ``limit`` requests per ``period``. A
    citizen's whole BankID login is about 10 such requests (collect polls every 2 s);
    many citizens share an address behind a company's or a carrier's NAT, hence room.
    ``exempt``: addresses never limited; the local cluster's load tools all come from
    127.0.0.1, so it is exempt there (a production front door exempts nobody)."""

    limit: int = 100
    period: str = "10s"
    retry_after: int = 10
    exempt: tuple[str, ...] = ("127.0.0.1",)


@dataclass
class Member:
    name: str
    role: str  # redis | sentinel | node | haproxy | simulator | demo | monitoring
    port: int
    pid: int
    argv: list[str]
    log: str
    env: dict[str, str] = field(default_factory=dict)

    def proc(self) -> procs.Proc:
        return procs.Proc(self.name, self.pid, self.port, Path(self.log))


@dataclass
class Cluster:
    run_dir: Path
    layout: Layout
    members: list[Member] = field(default_factory=list)
    issuer: str = ""
    ca_file: str = ""
    settings_file: str = ""
    progress: bool = False  # print a line per process started (cluster up)

    def front_door_net(self) -> frontdoor.Net | None:
        """The namespaces of ``--front-door ha`` (None: one HAProxy on 127.0.0.1)."""
        return frontdoor.Net.for_run(self.run_dir) if self.layout.front_door == "ha" else None

    # --- persistence -------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.run_dir / "cluster.json"

    def save(self) -> None:
        data = {"layout": asdict(self.layout), "members": [asdict(m) for m in self.members],
                "issuer": self.issuer, "ca_file": self.ca_file,
                "settings_file": self.settings_file}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.state_file)

    @classmethod
    def load(cls, run_dir: Path) -> Cluster | None:
        path = run_dir / "cluster.json"
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        lay = data["layout"]
        layout = Layout(**{**lay, "redis": tuple(lay["redis"]), "sentinels": tuple(lay["sentinels"]),
                           "nodes": tuple(lay["nodes"]), "metrics": tuple(lay.get("metrics", ()))})
        return cls(run_dir, layout, [Member(**m) for m in data["members"]], data["issuer"],
                   data["ca_file"], data["settings_file"])

    # --- credentials (ha/redis_auth.py) -------------------------------------------
    @property
    def auth(self) -> redis_auth.RedisAuth:
        return redis_auth.RedisAuth(self.run_dir / "secrets")

    def redis_client(self, port: int, **kw: Any) -> Any:
        """An operator's (admin) client of one Redis of the cluster."""
        return procs.redis_client(port, username="admin",
                                  password=self.auth.password("admin"), **kw)

    def sentinel_client(self, port: int, **kw: Any) -> Any:
        return procs.redis_client(port, password=self.auth.password(redis_auth.SENTINEL_SECRET),
                                  **kw)

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)

    def by_role(self, role: str) -> list[Member]:
        return [m for m in self.members if m.role == role]

    # --- processes ---------------------------------------------------------------
    def start(self, name: str, role: str, port: int, argv: list[str], *,
              env: dict[str, str] | None = None) -> Member:
        log = self.run_dir / "logs" / f"{name}.log"
        p = procs.spawn(name, argv, log=log, port=port, env=env, cwd=stack.REPO)
        m = Member(name, role, port, p.pid, argv, str(log), env or {})
        self.members = [x for x in self.members if x.name != name] + [m]
        self.save()
        self.announce(m)
        return m

    def announce(self, m: Member) -> None:
        if self.progress:
            print(f"  started {m.name:<20} pid {m.pid:>7}" + (f"  port {m.port}" if m.port
                                                               else ""), flush=True)

    def restart(self, name: str) -> Member:
        """Start a stopped member again with its recorded command line."""
        old = self.member(name)
        if old.proc().alive():
            procs.stop(old.proc())
        return self.start(old.name, old.role, old.port, old.argv, env=old.env)

    def stop_all(self) -> None:
        order = ["supervisor", "monitoring", "demo", "keepalived", "haproxy", "node",
                 "simulator", "postgres", "sentinel", "redis"]
        for role in order:
            for m in self.by_role(role):
                procs.stop(m.proc())

    # --- Redis topology ----------------------------------------------------------
    def primary_port(self) -> int | None:
        for s in self.by_role("sentinel"):
            with contextlib.suppress(redis.RedisError, OSError):
                c = self.sentinel_client(s.port)
                try:
                    addr = c.sentinel_get_master_addr_by_name(SERVICE)
                finally:
                    c.close()
                if isinstance(addr, tuple | list) and addr:
                    return int(addr[1])
        return None

    def redis_member(self, port: int) -> Member:
        return next(m for m in self.by_role("redis") if m.port == port)


def _ssl(c: Cluster) -> Any:
    import ssl

    return ssl.create_default_context(cafile=c.ca_file)


def _http_ok(url: str, ctx: Any = None, timeout: float = 1.0) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as resp:  # noqa: S310
            return resp.status == 200, str(resp.status)
    except Exception as exc:  # any failure is "not healthy"; say which
        return False, type(exc).__name__


def _redis_role(cluster: Cluster, port: int) -> tuple[bool, str]:
    try:
        c = cluster.redis_client(port)
        try:
            info = c.info("replication")
        finally:
            c.close()
        return True, str(info.get("role"))
    except (redis.RedisError, OSError) as exc:
        return False, type(exc).__name__


def _sentinel_view(cluster: Cluster, port: int, replicas: int, others: int) -> tuple[bool, str]:
    """A Sentinel is healthy when it names a primary that it sees up, and sees up every
    running replica and every other running Sentinel. One that has not (yet) found its
    peers cannot help elect a leader, and a failover then may run twice (two Sentinels
    promoting two replicas): ``cluster up`` and the drills wait for this."""
    try:
        c = cluster.sentinel_client(port)
        try:
            master = c.sentinel_master(SERVICE)
            seen_replicas = sum(1 for r in c.sentinel_slaves(SERVICE)
                                if not (r["is_sdown"] or r["is_disconnected"]))
            seen_others = sum(1 for s in c.sentinel_sentinels(SERVICE)
                              if not (s["is_sdown"] or s["is_disconnected"]))
        finally:
            c.close()
    except (redis.RedisError, OSError) as exc:
        return False, type(exc).__name__
    up = not (master["is_sdown"] or master["is_odown"] or master["is_disconnected"])
    detail = (f"primary {master['ip']}:{master['port']}{'' if up else ' (down)'}, "
              f"sees {seen_replicas}/{replicas} replicas, {seen_others}/{others} sentinels")
    return up and seen_replicas >= replicas and seen_others >= others, detail


def health(c: Cluster, *, role: str = "") -> list[dict[str, Any]]:
    """Every member's health, or only those of ``role``."""
    out = []
    running = {m.name for m in c.members if m.proc().alive()}
    replicas = sum(1 for m in c.by_role("redis") if m.name in running) - 1
    sentinels = sum(1 for m in c.by_role("sentinel") if m.name in running)
    for m in c.by_role(role) if role else c.members:
        alive = m.name in running
        ok, detail = False, "not running"
        if alive:
            if m.role == "redis":
                ok, detail = _redis_role(c, m.port)
            elif m.role == "sentinel":
                ok, detail = _sentinel_view(c, m.port, replicas, sentinels - 1)
            elif m.role == "node":
                ok, detail = _http_ok(f"http://127.0.0.1:{m.port}/readyz")
            elif m.role == "haproxy":
                stats = c.layout.stats if m.name == "haproxy" else c.layout.stats2
                ok, detail = _http_ok(f"http://127.0.0.1:{stats}/stats;csv")
            elif m.role == "postgres":
                ok, detail = _tcp_ok(m.port)
            elif m.role == "supervisor":
                ok, detail = True, "watching"
            elif m.role == "keepalived":
                net = c.front_door_net()
                i = int(m.name.rsplit("-", 1)[1])
                ok = True
                detail = "holds the floating address" if net and frontdoor.holder(net) == i \
                    else "backup"
            elif m.role == "simulator":
                phone = c.layout.freja_phone if m.name == "freja-simulator" else c.layout.phone
                ok, detail = _http_ok(f"http://127.0.0.1:{phone}/healthz")
            elif m.role == "demo":
                ok, detail = _http_ok(f"https://127.0.0.1:{m.port}/", _ssl(c))
            elif m.role == "monitoring":
                path = "/-/ready" if m.name == "prometheus" else "/health"
                ok, detail = _http_ok(f"http://127.0.0.1:{m.port}{path}")
        said = supervision.status(c.run_dir, m.name)
        if said:
            detail = f"{detail}; {said}"
            ok = ok and not said.startswith("CRASH LOOP")
        out.append({"name": m.name, "role": m.role, "pid": m.pid, "port": m.port,
                    "alive": alive, "healthy": ok, "detail": detail})
    return out


def _tcp_ok(port: int) -> tuple[bool, str]:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True, "accepting connections"
    except OSError as exc:
        return False, type(exc).__name__


def _metrics_url(c: Cluster, m: Member) -> str:
    i = c.layout.nodes.index(m.port) if m.port in c.layout.nodes else -1
    return f"http://127.0.0.1:{c.layout.metrics[i]}/metrics" if 0 <= i < len(
        c.layout.metrics) else ""


def describe(c: Cluster) -> dict[str, Any]:
    primary = c.primary_port()
    members = health(c)
    return {
        "issuer": c.issuer,
        "stats_url": f"http://127.0.0.1:{c.layout.stats}/stats",
        "prometheus_url": f"http://127.0.0.1:{c.layout.prometheus}"
        if c.by_role("monitoring") else None,
        "phone_url": f"http://127.0.0.1:{c.layout.phone}",
        "bankid_url": f"https://127.0.0.1:{c.layout.bankid}/rp/v6.0",
        "freja_url": f"https://127.0.0.1:{c.layout.freja}",
        "freja_phone_url": f"http://127.0.0.1:{c.layout.freja_phone}",
        "ca_file": c.ca_file,
        # The smart-card listener and the test cards for it (``idportal pki``).
        "card_url": f"https://{urlsplit(c.issuer).hostname}:{c.layout.card}",
        "front_door": _front_door(c),
        "cards_dir": str(c.run_dir / "pki" / "cards"),
        "sentinels": [f"127.0.0.1:{p}" for p in c.layout.sentinels],
        "audit_dsn": postgres.dsn(c.layout.postgres) if c.by_role("postgres") else None,
        "settings_file": c.settings_file,
        "service_name": SERVICE,
        "primary": f"127.0.0.1:{primary}" if primary else None,
        "run_dir": str(c.run_dir),
        "nodes": [{"name": m.name, "url": f"http://127.0.0.1:{m.port}",
                   "metrics_url": _metrics_url(c, m)} for m in c.by_role("node")],
        "demos": {m.name.removeprefix("demo-"): f"https://127.0.0.1:{m.port}"
                  for m in c.by_role("demo")},
        "processes": members,
        "healthy": all(m["healthy"] for m in members),
    }


# --- up ------------------------------------------------------------------------------

def render_haproxy(c: Cluster, certificate: Path, front: FrontDoor | None = None,
                   cards: pki.CardKit | None = None, *, instance: int = 1) -> Path:
    """HAProxy's configuration; with ``cards``, the smart-card listener on
    ``layout.card`` (the card CA and its CRL from the kit). With ``--front-door ha``,
    ``instance`` 1 or 2: its public listeners open inside its own namespace
    (``ha/frontdoor.py``), its stats on ``layout.stats`` or ``layout.stats2``."""
    front = front or FrontDoor()
    net = c.front_door_net()
    name = "haproxy" if instance == 1 else f"haproxy-{instance}"
    card = None if cards is None else {
        "port": c.layout.card, "ca_file": cards.card_ca.cert, "crl_file": cards.crl,
        "certificate": pki.bundle(cards.listener, c.run_dir / "pki" / "card-listener.pem")}
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False,  # noqa: S701 - not HTML
                      keep_trailing_newline=True)
    for page in ("429.html", "429.json"):  # the answers to a flood, with the request id
        (c.run_dir / page).write_text((TEMPLATES / page).read_text())
    text = env.get_template("haproxy.cfg.j2").render(
        run_dir=c.run_dir, https_port=c.layout.https, instance=name,
        server_timeout_s=SERVER_TIMEOUT_S,
        stats_port=c.layout.stats if instance == 1 else c.layout.stats2,
        namespace=net.ns(instance) if net else "",
        in_namespace=f" namespace {net.ns(instance)}" if net else "",
        listen_on="0.0.0.0" if net else "127.0.0.1",  # noqa: S104 - inside its namespace only
        health_port=frontdoor.HEALTH_PORT,
        certificate=certificate, tls_ciphers=tls.TLS12_CIPHERS,
        tls13_ciphersuites=tls.TLS13_CIPHERSUITES, rate_limit=front.limit, card=card,
        rate_period=front.period, retry_after=front.retry_after,
        rate_exempt=(*front.exempt, net.local) if net else front.exempt,
        nodes=[{"name": f"node-{i + 1}", "port": p} for i, p in enumerate(c.layout.nodes)])
    path = c.run_dir / f"{name}.cfg"
    path.write_text(text)
    return path


def haproxy_argv(binary: str, cfg: Path) -> list[str]:
    # Master-worker mode: SIGUSR2 to the master reloads without dropping connections.
    return [binary, "-W", "-db", "-f", str(cfg)]


def _wait(cond: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise procs.ProcError(f"{what} not ready after {timeout} s")


def up(run_dir: Path, layout: Layout, *, quiet: bool = True, server: str = DEFAULT_SERVER,
       monitoring: bool = False, supervise: bool = True) -> Cluster:
    """Start everything (or find it already running) and wait until it is healthy. The
    nodes run under ``server`` (``idportal serve --server``); with ``monitoring``,
    Prometheus and the Redis exporters too (``ha/prometheus.py``); with ``supervise``
    (the default), a supervisor that starts again whatever dies (``ha/supervisor.py``)."""
    run_dir = run_dir.resolve()
    existing = Cluster.load(run_dir)
    if existing is not None and any(m.proc().alive() for m in existing.members):
        return existing
    redis_bin = procs.require_binary("redis-server", "redis-server")
    haproxy_bin = procs.require_binary("haproxy", "haproxy")
    c = Cluster(run_dir, layout)
    c.progress = not quiet
    try:
        m = stack.prepare(run_dir)
        auth = redis_auth.create(c.auth.folder)
        c.ca_file = str(m.ca.cert)
        net = c.front_door_net()
        if net is not None:
            # Before anything: the issuer is its floating address.
            frontdoor.create(net, ports=(layout.https, layout.card))
        c.issuer = f"https://{net.vip if net else '127.0.0.1'}:{layout.https}"
        p0 = layout.redis[0]
        for i, port in enumerate(layout.redis):
            argv = procs.redis_argv(redis_bin, port, run_dir / f"redis-{i}", aof=True,
                                    replica_of=None if i == 0 else p0, min_replicas=1,
                                    auth=auth)
            c.start(f"redis-{i}", "redis", port, argv)
        for port in layout.redis:
            procs.wait_port(port, proc=c.member(f"redis-{layout.redis.index(port)}").proc())
        procs.wait_replication(p0, len(layout.redis) - 1, username="admin",
                               password=auth.password("admin"))
        for i, port in enumerate(layout.sentinels):
            conf = procs.sentinel_conf(run_dir / f"sentinel-{i}" / "sentinel.conf", port=port,
                                       primary_port=p0, service=SERVICE, auth=auth)
            c.start(f"sentinel-{i}", "sentinel", port, [redis_bin, str(conf), "--sentinel"])
        for sim, port in ((stack.start_simulator(m, layout.bankid, layout.phone), layout.bankid),
                          (stack.start_freja_simulator(m, layout.freja, layout.freja_phone),
                           layout.freja)):
            c.members.append(Member(sim.name, "simulator", port, sim.pid,
                                    [str(a) for a in (sim.popen.args if sim.popen else [])],  # type: ignore[union-attr]
                                    str(sim.log)))
            c.announce(c.members[-1])
        c.save()
        # The nodes verify Freja's results with the certificate the simulator writes.
        procs.wait_port(layout.freja, proc=c.member("freja-simulator").proc())
        # The audit trail's PostgreSQL: its own port and data folder.
        pg_data, pg_secret = postgres.init(run_dir, auth.folder)
        c.start("postgres", "postgres", layout.postgres,
                postgres.server_argv(pg_data, layout.postgres))
        procs.wait_port(layout.postgres, proc=c.member("postgres").proc(), timeout=30)
        postgres.create_database(pg_data, layout.postgres, pg_secret)
        # Test cards for the smart-card listener (``idportal pki``): its CA, CRL, cards.
        vip = (net.vip,) if net else ()
        cards = pki.card_kit(run_dir / "pki" / "cards", server_ca=m.ca, ips=vip)
        settings = stack.write_settings(
            m, issuer=c.issuer, sentinels=tuple(f"127.0.0.1:{p}" for p in layout.sentinels),
            card_login_url=f"https://{net.vip if net else '127.0.0.1'}:{layout.card}",
            card_trust=cards.card_ca.cert,
            freja_port=layout.freja, audit_dsn=postgres.dsn(layout.postgres),
            audit_password_file=pg_secret,
            wait_replicas=1, bankid_port=layout.bankid, trusted_proxies=("127.0.0.1",),
            max_pin_failures_per_ip=100_000, clients_file=stack.clients_for(m, layout.demos),
            redis_auth=auth)
        c.settings_file = str(settings)
        for i, port in enumerate(layout.nodes):
            name = f"node-{i + 1}"
            argv = [procs.python(), "-m", "service.cli", "--config", str(settings), "serve",
                    "--bind", f"127.0.0.1:{port}", "--drain", str(DRAIN_S), "--server", server,
                    "--metrics-bind", f"127.0.0.1:{layout.metrics[i]}"]
            c.start(name, "node", port, argv, env={"IDPORTAL_NODE_NAME": name})
        for s in c.by_role("sentinel"):
            procs.wait_port(s.port, proc=s.proc())
        for n in c.by_role("node"):
            stack.wait_http(f"http://127.0.0.1:{n.port}/readyz", None, proc=n.proc(), timeout=30)
        front_cert = pki.issue(m.ca, run_dir / "pki", "front-door", cn=urlsplit(c.issuer).hostname
                               or "127.0.0.1", ips=vip) if net else m.server
        cert = pki.bundle(front_cert, run_dir / "pki" / "haproxy.pem")
        for instance in (1, 2) if net else (1,):
            cfg = render_haproxy(c, cert, cards=cards, instance=instance)
            check = subprocess.run([haproxy_bin, "-c", "-f", str(cfg)], capture_output=True,
                                   text=True, check=False)
            if check.returncode != 0:
                raise procs.ProcError(f"haproxy config invalid: {check.stdout}{check.stderr}")
            # Known by a port it opens on 127.0.0.1: its public one is inside a namespace
            # with --front-door ha, its stats listener is not.
            c.start("haproxy" if instance == 1 else f"haproxy-{instance}", "haproxy",
                    layout.https if net is None else (layout.stats, layout.stats2)[instance - 1],
                    haproxy_argv(haproxy_bin, cfg))
        if net is not None:
            start_keepalived(c, net)
        stack.wait_http(f"{c.issuer}/readyz", stack.ssl_context(m), proc=c.member("haproxy").proc())
        labels = {"mina-sidor": "Mina sidor", "bygglov": "Bygglov"}
        for cid, port in layout.demos.items():
            d = stack.start_demo(m, client_id=cid, name=labels.get(cid, cid), port=port,
                                 issuer=c.issuer, phone_port=layout.phone)
            c.members.append(Member(d.name, "demo", port, d.pid,
                                    [str(a) for a in (d.popen.args if d.popen else [])],  # type: ignore[union-attr]
                                    str(d.log)))
            c.announce(c.members[-1])
        c.save()
        if monitoring:
            start_monitoring(c, auth)
        procs.wait_port(layout.phone, proc=c.member("bankid-simulator").proc())
        for demo in c.by_role("demo"):
            procs.wait_port(demo.port, proc=demo.proc())
        _wait(lambda: c.primary_port() == p0 and all(
            p["healthy"] for p in health(c, role="sentinel")), "Sentinel", 15)
        if supervise:
            start_supervisor(c)
        return c
    except BaseException:
        c.stop_all()
        if (made := c.front_door_net()) is not None:
            frontdoor.destroy(made)
        postgres.remove(run_dir)
        with contextlib.suppress(OSError):
            c.state_file.unlink()
        raise


def start_supervisor(c: Cluster) -> Member:
    """The supervisor: every process that dies is started again, with backoff."""
    return c.start("supervisor", "supervisor", 0,
                   [procs.python(), "-m", "ha.supervisor", str(c.run_dir)])


def start_keepalived(c: Cluster, net: frontdoor.Net) -> None:
    """One keepalived per front door, inside its namespace; wait until one holds the
    floating address."""
    for i in (1, 2):
        conf = c.run_dir / f"keepalived-{i}.conf"
        conf.write_text(frontdoor.keepalived_conf(net, i))
        c.start(f"keepalived-{i}", "keepalived", 0, frontdoor.keepalived_argv(net, i, conf,
                                                                              c.run_dir))
    _wait(lambda: frontdoor.holder(net) is not None, "keepalived (the floating address)", 15)


def _front_door(c: Cluster) -> dict[str, Any]:
    net = c.front_door_net()
    if net is None:
        return {"mode": "single", "haproxy": ["haproxy"]}
    held = frontdoor.holder(net)
    return {"mode": "ha", "vip": net.vip, "haproxy": ["haproxy", "haproxy-2"],
            "holder": None if held is None else ("haproxy" if held == 1 else "haproxy-2"),
            "namespaces": [net.ns(1), net.ns(2), net.lan]}


def start_monitoring(c: Cluster, auth: redis_auth.RedisAuth) -> None:
    """Prometheus scraping the nodes, HAProxy and (through one exporter each) the Redis
    servers, with the repo's alert rules."""
    prom_bin, exporter_bin = prometheus.binaries()
    folder = c.run_dir / "prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    secrets = prometheus.exporter_password_file(auth, c.layout.redis,
                                                auth.folder / "exporter-passwords.json")
    for i, (redis_port, port) in enumerate(zip(c.layout.redis, c.layout.exporters,
                                               strict=True)):
        c.start(f"redis-exporter-{i}", "monitoring", port,
                prometheus.exporter_argv(exporter_bin, redis_port, port, secrets))
    cfg = folder / "prometheus.yml"
    cfg.write_text(prometheus.config(nodes_metrics=list(c.layout.metrics),
                                     haproxy_stats=c.layout.stats,
                                     exporters=list(c.layout.exporters)))
    c.start("prometheus", "monitoring", c.layout.prometheus,
            prometheus.prometheus_argv(prom_bin, cfg, folder / "data", c.layout.prometheus))
    stack.wait_http(f"http://127.0.0.1:{c.layout.prometheus}/-/ready", None,
                    proc=c.member("prometheus").proc(), timeout=30)


# --- operator commands (no load, no report) ------------------------------------------

def _in_haproxy(c: Cluster, node: str) -> bool:
    """Every HAProxy of the front door sends to ``node`` again (its check passed)."""
    for m in c.by_role("haproxy"):
        stats = c.layout.stats if m.name == "haproxy" else c.layout.stats2
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{stats}/stats;csv",
                                        timeout=1) as resp:
                rows = resp.read().decode().lstrip("# ").splitlines()
        except OSError:
            return False
        header = rows[0].split(",")
        for row in rows[1:]:
            cells = dict(zip(header, row.split(","), strict=False))
            if cells.get("pxname") == "nodes" and cells.get("svname") == node \
                    and not cells.get("status", "").startswith("UP"):
                return False
    return True


def restart_node(c: Cluster, name: str, *, timeout: float = 30) -> Member:
    """Restart one node without a failed login: SIGTERM (it drains: /readyz answers 503
    until HAProxy has taken it out, then it finishes what is in flight), start it again
    with the same command line, wait until it is ready and HAProxy sends to it again."""
    supervision.hold(c.run_dir, [name], timeout + 30)  # stopped on purpose: not a crash
    try:
        old = c.member(name)
        if old.role != "node":
            return c.restart(name)
        procs.stop(old.proc(), timeout=20)
        new = c.restart(name)
        _wait(lambda: _http_ok(f"http://127.0.0.1:{new.port}/readyz")[0], f"{name} /readyz",
              timeout)
        _wait(lambda: _in_haproxy(c, name), f"HAProxy sending to {name}", timeout)
        return new
    finally:
        supervision.release(c.run_dir, [name])


def rolling_restart(c: Cluster) -> None:
    """Every node in turn (a rolling upgrade once the new version is installed): the next
    one only when HAProxy sends to the one before again."""
    for m in c.by_role("node"):
        restart_node(c, m.name)


def down(run_dir: Path) -> int:
    c = Cluster.load(run_dir.resolve())
    if c is None:
        return 0
    c.stop_all()
    left = [m.name for m in c.members if m.proc().alive()]
    if left:
        for m in c.members:
            procs.signal_pid(m.pid, signal.SIGKILL)
    net = c.front_door_net()
    if net is not None:
        frontdoor.destroy(net)
    postgres.remove(c.run_dir)
    with contextlib.suppress(FileNotFoundError):  # a concurrent down got there first
        c.state_file.unlink()
    return len(c.members)


def require_running(run_dir: str | Path) -> Cluster | None:
    """The cluster recorded in ``run_dir``, or None after telling the operator."""
    c = Cluster.load(Path(run_dir).resolve())
    if c is None:
        print("no cluster is running here: start it with 'idportal cluster up'")
    return c


def main(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    if args.action == "up":
        before = Cluster.load(run_dir.resolve())
        already = before is not None and any(m.proc().alive() for m in before.members)
        try:
            layout = Layout.fixed(args.nodes)
            layout.front_door = getattr(args, "front_door", "single")
            if not args.json:
                print("starting the cluster (a line per process; health checks follow)")
            c = up(run_dir, layout, server=args.server, quiet=args.json,
                   monitoring=getattr(args, "monitoring", False))
        except (procs.ProcError, frontdoor.Unavailable) as exc:
            print(f"cluster up failed (everything started was stopped again): {exc}")
            return 1
        info = describe(c)
        if args.json:
            print(json.dumps(info, indent=1))
            return 0
        print(("idportal cluster was already running." if already else "idportal cluster is up.")
              + f"""

  Citizen, start here:   {info['demos'].get('mina-sidor', '')}/   (Mina sidor: BankID, Freja, card or PIN)
                         {info['demos'].get('bygglov', '')}/   (Bygglov: needs BankID, SSO / step-up)
  BankID "phone":        {info['phone_url']}/phone   (approve the waiting order)
  Freja eID "phone":     {info['freja_phone_url']}/phone   (POST /phone/scan approves)
  Smart card:            {info['card_url']}   (import {info['cards_dir']}/card-citizen.p12, password idportal)
  PIN test citizen:      194001011008 with PIN 1234
  Issuer (HAProxy):      {info['issuer']}/.well-known/openid-configuration
  HAProxy stats:         {info['stats_url']}
  Prometheus:            {info['prometheus_url'] or 'off (cluster up --monitoring)'}
  TLS CA to trust:       {info['ca_file']}
  Logs:                  {run_dir.resolve() / 'logs'}
  Redis primary:         {info['primary']}   Sentinels: {', '.join(info['sentinels'])}

  idportal cluster status    idportal drill KIND    idportal cluster down""")
        return 0
    if args.action in ("restart", "rolling-restart"):
        found = require_running(run_dir)
        if found is None:
            return 1
        names = [m.name for m in found.by_role("node")] if args.action == "rolling-restart" \
            else [args.name]
        if not names[0] or names[0] not in {m.name for m in found.members}:
            print(f"restart needs the name of a process: {', '.join(m.name for m in found.members)}")
            return 2
        for name in names:
            t = time.monotonic()
            restart_node(found, name)
            print(f"{name}: restarted and serving again after {time.monotonic() - t:.1f} s")
        return 0
    if args.action == "down":
        n = down(run_dir)
        print(f"stopped {n} processes" if n else "no cluster was running")
        return 0
    found = Cluster.load(run_dir.resolve())
    if found is None:
        print(json.dumps({"running": False}) if args.json else "no cluster is running")
        return 1
    info = describe(found)
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        print(f"issuer {info['issuer']}   primary {info['primary']}")
        for p in info["processes"]:
            mark = "ok  " if p["healthy"] else ("DOWN" if not p["alive"] else "SICK")
            print(f"  {mark} {p['name']:18} {p['role']:9} pid {p['pid']:>7}  port {p['port']:>5}"
                  f"  {p['detail']}")
    return 0 if info["healthy"] else 1

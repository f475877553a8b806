"""The pieces every local deployment needs (dev run, HA cluster, e2e tests): TLS
material, signing keys, a settings file, and starting the simulator, auth nodes and
demo e-services as real processes on loopback."""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ha import pki, procs
from ha.redis_auth import SENTINEL_SECRET, RedisAuth
from service.oidc import keyring
from service.settings import DEFAULT_SERVER

REPO = Path(__file__).resolve().parent.parent
DEMO_SECRET = "demo-mina-sidor-secret-NOT-FOR-PRODUCTION-7f3a9c"  # public demo material


@dataclass(frozen=True)
class Material:
    run_dir: Path
    ca: pki.Issued
    server: pki.Issued  # 127.0.0.1 / localhost
    rp_client: pki.Issued  # idportal's client certificate toward the BankID RP API
    keys_dir: Path


def prepare(run_dir: Path) -> Material:
    run_dir.mkdir(parents=True, exist_ok=True)
    folder = run_dir / "pki"
    ca = pki.make_ca(folder)
    server = (pki.Issued(folder / "server.pem", folder / "server-key.pem")
              if (folder / "server.pem").exists()
              else pki.issue(ca, folder, "server", cn="127.0.0.1"))
    rp = (pki.Issued(folder / "rp-client.pem", folder / "rp-client-key.pem")
          if (folder / "rp-client.pem").exists()
          else pki.issue(ca, folder, "rp-client", cn="idportal RP", server=False, client=True))
    keys_dir = run_dir / "keys"
    keyring.generate(keys_dir)
    return Material(run_dir, ca, server, rp, keys_dir)


def write_settings(m: Material, *, issuer: str, redis_url: str = "",
                   sentinels: tuple[str, ...] = (), wait_replicas: int = 0,
                   bankid_port: int, trusted_proxies: tuple[str, ...] = (),
                   clients_file: Path | None = None, name: str = "idportal.toml",
                   max_pin_failures_per_ip: int = 0,
                   redis_auth: RedisAuth | None = None, card_login_url: str = "",
                   card_trust: Path | None = None, freja_port: int = 0,
                   audit_dsn: str = "", audit_password_file: Path | None = None) -> Path:
    """The settings file every node of one deployment reads.

    ``max_pin_failures_per_ip``: on loopback every citizen of a load test comes from one
    address, so the local cluster raises the per-address PIN limit (production keeps
    the default)."""
    lines = [
        f'issuer = "{issuer}"',
        f'keys_dir = "{m.keys_dir}"',
        f'clients_file = "{clients_file or REPO / "config" / "clients.toml"}"',
        f"trusted_proxies = {list(trusted_proxies)!r}".replace("'", '"'),
        # The demo e-services' back-channel endpoints use the deployment's own CA.
        f'backchannel_ca_file = "{m.ca.cert}"',
        "", "[redis]",
        f'url = "{redis_url}"' if redis_url else f"sentinels = {list(sentinels)!r}".replace("'", '"'),
        f"wait_replicas = {wait_replicas}",
        *([] if redis_auth is None else [
            'username = "idportal"',
            f'password_file = "{redis_auth.secret_file("idportal")}"',
            f'sentinel_password_file = "{redis_auth.secret_file(SENTINEL_SECRET)}"']),
        "", "[bankid]",
        f'base_url = "https://127.0.0.1:{bankid_port}/rp/v6.0"',
        f'client_cert = "{m.rp_client.cert}"',
        f'client_key = "{m.rp_client.key}"',
        f'ca_file = "{m.ca.cert}"',
        "", "[pin]",
        f'register_file = "{REPO / "config" / "pin-register.toml"}"',
    ]
    if max_pin_failures_per_ip:
        lines.append(f"max_failures_per_ip = {max_pin_failures_per_ip}")
    lines += ["", "[watched_certificates]", f'front_door = "{m.server.cert}"']
    if audit_dsn:
        lines += ["", "[audit]", f'dsn = "{audit_dsn}"',
                  *([f'password_file = "{audit_password_file}"'] if audit_password_file
                    else [])]
    if freja_port:
        lines += ["", "[freja]", f'base_url = "https://127.0.0.1:{freja_port}"',
                  f'client_cert = "{m.rp_client.cert}"', f'client_key = "{m.rp_client.key}"',
                  f'ca_file = "{m.ca.cert}"', f'jws_cert_file = "{freja_jws_cert(m)}"']
    if card_login_url:
        lines += ["", "[smartcard]", f'login_url = "{card_login_url}"',
                  *([f'trust_file = "{card_trust}"'] if card_trust else [])]
    path = m.run_dir / name
    path.write_text("\n".join(lines) + "\n")
    return path


DEMO_PORTS = {"mina-sidor": 8601, "bygglov": 8602}  # as written in config/clients.toml


def clients_for(m: Material, demos: dict[str, int]) -> Path:
    """config/clients.toml with the demo e-services on the ports they really run on."""
    text = (REPO / "config" / "clients.toml").read_text()
    for cid, port in demos.items():
        text = text.replace(f"https://127.0.0.1:{DEMO_PORTS[cid]}/",
                            f"https://127.0.0.1:{port}/")
    text = text.replace('jwks_file = "demo/', f'jwks_file = "{REPO / "config" / "demo"}/')
    path = m.run_dir / "clients.toml"
    path.write_text(text)
    return path


def start_simulator(m: Material, port: int, phone_port: int, *, delay_ms: int = 0) -> procs.Proc:
    """RP API on ``port`` (mutual TLS); phone and control API on ``phone_port`` (http)."""
    p = procs.spawn("bankid-simulator", [
        procs.python(), "-m", "simulators.bankid", "--bind", f"127.0.0.1:{port}",
        "--certfile", str(m.server.cert), "--keyfile", str(m.server.key),
        "--ca-certs", str(m.ca.cert), "--delay-ms", str(delay_ms),
        "--phone-bind", f"127.0.0.1:{phone_port}"],
        log=m.run_dir / "logs" / "bankid-simulator.log", port=port, cwd=REPO)
    return p


def start_freja_simulator(m: Material, port: int, phone_port: int) -> procs.Proc:
    """Freja's RP API on ``port`` (mutual TLS); phone and control API on ``phone_port``
    (http). Its result-signing certificate lands in ``freja_jws_cert(m)``."""
    return procs.spawn("freja-simulator", [
        procs.python(), "-m", "simulators.freja", "--bind", f"127.0.0.1:{port}",
        "--certfile", str(m.server.cert), "--keyfile", str(m.server.key),
        "--ca-certs", str(m.ca.cert), "--phone-bind", f"127.0.0.1:{phone_port}",
        "--jws-cert-out", str(freja_jws_cert(m))],
        log=m.run_dir / "logs" / "freja-simulator.log", port=port, cwd=REPO)


def freja_jws_cert(m: Material) -> Path:
    return m.run_dir / "pki" / "freja-jws.pem"


def start_node(m: Material, settings_file: Path, port: int, *, name: str, tls: bool = True,
               drain_s: float = 0.0, server: str = DEFAULT_SERVER) -> procs.Proc:
    argv = [procs.python(), "-m", "service.cli", "--config", str(settings_file), "serve",
            "--bind", f"127.0.0.1:{port}", "--drain", str(drain_s), "--server", server]
    if tls:
        argv += ["--certfile", str(m.server.cert), "--keyfile", str(m.server.key)]
    return procs.spawn(name, argv, log=m.run_dir / "logs" / f"{name}.log", port=port,
                       env={"IDPORTAL_NODE_NAME": name}, cwd=REPO)


def start_demo(m: Material, *, client_id: str, name: str, port: int, issuer: str,
               phone_port: int = 0) -> procs.Proc:
    """A demo e-service; Bygglov also asks citizens to sign, and verifies the signature
    against the BankID simulator's root (served on its phone listener)."""
    argv = [procs.python(), "-m", "demo.portal", "--client-id", client_id, "--name", name,
            "--issuer", issuer, "--port", str(port), "--ca", str(m.ca.cert),
            "--certfile", str(m.server.cert), "--keyfile", str(m.server.key)]
    if client_id == "bygglov":
        argv += ["--private-jwk", str(REPO / "config" / "demo" / "bygglov-private-jwk.json")]
        if phone_port:
            argv += ["--bankid-ca-url", f"http://127.0.0.1:{phone_port}/ca.pem"]
    else:
        argv += ["--secret", DEMO_SECRET]
    return procs.spawn(f"demo-{client_id}", argv, log=m.run_dir / "logs" / f"demo-{client_id}.log",
                       port=port, cwd=REPO)


def ssl_context(m: Material, *, client: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(m.ca.cert))
    if client:
        ctx.load_cert_chain(str(m.rp_client.cert), str(m.rp_client.key))
    return ctx


def wait_http(url: str, ctx: ssl.SSLContext | None, *, timeout: float = 20.0,
              proc: procs.Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise procs.ProcError(f"{proc.name} exited; see {proc.log}")
        try:
            with urllib.request.urlopen(url, timeout=1, context=ctx) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.1)
    raise procs.ProcError(f"{url} not healthy after {timeout} s ({last})")

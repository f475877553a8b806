"""One immutable Settings, built once from a TOML file and ``IDPORTAL_*`` variables.

Every problem is reported at once (``SettingsError`` lists them all), naming the key.
Environment variables override the file: ``IDPORTAL_ISSUER``,
``IDPORTAL_REDIS__SENTINELS=127.0.0.1:26379,127.0.0.1:26380`` (``__`` for nesting).
Relative paths in the file are taken from the file's folder.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "IDPORTAL_"


# The HTTP servers a node can run under (``idportal serve --server``). The first is the
# default: Uvicorn with its C parser (httptools). Behind HAProxy a node speaks only
# HTTP/1.1, so Hypercorn's h2 buys nothing there, and on the same core Uvicorn serves
# about a third more logins and takes PIN logins to the argon2id target (BENCHMARKS.md,
# "The cost of the server"; README, "Why Uvicorn by default"). Hypercorn, the design
# card's first choice, stays one flag away and passes the same end-to-end tests.
SERVERS = ("uvicorn", "hypercorn")
DEFAULT_SERVER = SERVERS[0]


class SettingsError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class RedisSettings:
    """Where sessions live. ``sentinels`` set: the HA store; else ``url`` (development)."""

    url: str = "redis://127.0.0.1:6380/0"
    sentinels: tuple[str, ...] = ()
    service_name: str = "idportal"
    # The node's ACL user and its password: from a file (mode 600, preferred) or the
    # environment (IDPORTAL_REDIS__PASSWORD); never on a command line.
    username: str = ""
    password: str = ""
    password_file: str = ""
    # The Sentinels' own password (their `requirepass`).
    sentinel_password: str = ""
    sentinel_password_file: str = ""
    # TLS to Redis and Sentinel, for deployments across machines: verify the servers with
    # tls_ca_file; a client certificate when Redis asks for one (tls-auth-clients).
    tls: bool = False
    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # Writes a citizen would lose in a failover are confirmed by this many replicas
    # (WAIT). 0 turns confirmation off, for a single development Redis.
    wait_replicas: int = 1
    wait_timeout_ms: int = 500
    # How long one store call may ride out a failover before it answers 503. Sentinel
    # promotes a replica in ~2.3 s here (down-after 1000 ms), so 6 s leaves room.
    retry_budget_s: float = 6.0
    # The longest one attempt of a store call may take, all its commands together (and
    # the connect timeout): a primary that stops answering is given up on and retried.
    socket_timeout_s: float = 1.0
    max_connections: int = 64


@dataclass(frozen=True)
class Lifetimes:
    """The one TTL table (seconds): every key in the store, every token and cookie takes
    its lifetime from here, and every entry is used."""

    # A login transaction lives this long until the citizen starts a method (anonymous
    # /authorize requests must not fill the store), then login_transaction.
    login_transaction_unopened: int = 300
    login_transaction: int = 900
    authorization_code: int = 60
    id_token: int = 300  # the Swedish OIDC profile: at most 5 minutes
    access_token: int = 600
    refresh_token: int = 8 * 3600  # absolute lifetime of a refresh-token family
    session_idle: int = 1800
    session_absolute: int = 8 * 3600
    pin_failure_window: int = 900
    used_code_marker: int = 600
    # The longest a client assertion (private_key_jwt) may live; its jti is remembered
    # that long (plus clock_skew) so that it cannot be replayed.
    client_assertion: int = 600
    logout_token: int = 120  # Back-Channel Logout 1.0: short-lived
    # A taken login transaction stays this long, so a retried finish finds it taken by
    # itself (idempotent) and every other caller finds it gone.
    taken_transaction: int = 60
    # An unarmed grant outlives its code by this much, so redeeming always finds it.
    unarmed_grant_grace: int = 5
    # How long a browser stays "known" to a citizen (the PIN lockout's device cookie).
    known_browser: int = 180 * 24 * 3600
    # Tokens are checked against this much clock difference between machines.
    clock_skew: int = 30
    # A retired signing key stays published this long after the last token it signed
    # could expire (e-services cache JWKS).
    key_publication_margin: int = 300
    # How long e-services and browsers may cache discovery and the API description.
    metadata_cache: int = 300
    # Back-channel logout: how long a delivery is retried before it is given up, and how
    # long one node holds a claimed delivery before another may take it over.
    backchannel_delivery: int = 3600
    backchannel_claim: int = 15

    @property
    def key_publication(self) -> int:
        """How long a retired signing key stays in the JWKS."""
        return max(self.id_token, self.access_token) + self.key_publication_margin


@dataclass(frozen=True)
class BankIDSettings:
    """The BankID RP API v6 endpoint. ``https`` URLs use mutual TLS with the files below."""

    base_url: str = "http://127.0.0.1:8444/rp/v6.0"
    client_cert: str = ""
    client_key: str = ""
    ca_file: str = ""
    timeout_s: float = 5.0
    collect_interval_s: float = 2.0


@dataclass(frozen=True)
class PinSettings:
    register_file: str = "config/pin-register.toml"
    # A person is locked from one address after 5 misses, from all after 20; an address
    # after 50 (any persons). Counters expire after lifetimes.pin_failure_window.
    max_failures_per_person_ip: int = 5
    max_failures_per_person: int = 20
    max_failures_per_ip: int = 50
    # OWASP Password Storage Cheat Sheet: argon2id m=19 MiB, t=2, p=1.
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1


@dataclass(frozen=True)
class Settings:
    issuer: str = "https://127.0.0.1:8443"
    keys_dir: str = "var/keys"
    clients_file: str = "config/clients.toml"
    node_name: str = "node-1"
    default_locale: str = "sv"
    id_token_alg: str = "ES256"
    log_format: str = "json"
    log_level: str = "info"
    # Only behind HAProxy: take the client address from X-Forwarded-For when the
    # direct peer is one of these addresses or networks.
    trusted_proxies: tuple[str, ...] = ()
    # host:port of the node's internal /metrics listener ("": none); `serve
    # --metrics-bind` overrides it. Keep it off every route the front door serves.
    metrics_bind: str = ""
    max_body_bytes: int = 64 * 1024
    backchannel_timeout_s: float = 3.0
    # CA bundle that e-services' back-channel logout endpoints are verified with (PEM);
    # empty: the system's CAs. `cluster up` sets the local cluster's CA.
    backchannel_ca_file: str = ""
    redis: RedisSettings = field(default_factory=RedisSettings)
    lifetimes: Lifetimes = field(default_factory=Lifetimes)
    bankid: BankIDSettings = field(default_factory=BankIDSettings)
    pin: PinSettings = field(default_factory=PinSettings)

    @property
    def cookie_secure(self) -> bool:
        return self.issuer.startswith("https://")


_PATH_KEYS = {"keys_dir", "clients_file", "register_file", "client_cert", "client_key", "ca_file",
              "backchannel_ca_file", "password_file", "sentinel_password_file", "tls_ca_file",
              "tls_cert_file", "tls_key_file"}


def _cast(value: Any, kind: Any, key: str, problems: list[str]) -> Any:
    origin = typing.get_origin(kind)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in {"1", "true", "yes", "on"}:
                return True
            if str(value).lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if kind is int:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if kind is float:
            return float(value)
        if kind is str:
            if not isinstance(value, str | int | float):
                raise ValueError
            return str(value)
        if origin is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(i).strip() for i in items if str(i).strip())
    except (TypeError, ValueError):
        problems.append(f"{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
        return None
    return value


def _build(cls: type[Any], data: Mapping[str, Any], prefix: str, base: Path | None,
           problems: list[str]) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            problems.append(f"{prefix}{key}: unknown setting")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kind = hints[f.name]
        value = data[f.name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, Mapping):
                problems.append(f"{prefix}{f.name}: expected a table")
                continue
            kwargs[f.name] = _build(typing.cast(type, kind), value, f"{prefix}{f.name}.", base,
                                    problems)
            continue
        cast = _cast(value, kind, prefix + f.name, problems)
        if cast is None:
            continue
        if f.name in _PATH_KEYS and cast and base is not None and not Path(cast).is_absolute():
            cast = str(base / cast)
        kwargs[f.name] = cast
    return cls(**kwargs)


def _env_tree(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return tree


def _merge(a: dict[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(
            out.get(k), dict) else v
    return out


def _check(s: Settings, problems: list[str]) -> None:
    url = urlsplit(s.issuer)
    if url.scheme not in {"https", "http"} or not url.hostname or url.query or url.fragment:
        problems.append("issuer: must be an https URL without query or fragment")
    elif url.scheme == "http" and url.hostname not in {"127.0.0.1", "localhost"}:
        problems.append("issuer: plain http is only allowed on loopback")
    if s.id_token_alg not in {"ES256", "RS256"}:
        problems.append("id_token_alg: ES256 or RS256")
    if s.default_locale not in {"sv", "en"}:
        problems.append("default_locale: sv or en")
    if s.log_format not in {"json", "console"}:
        problems.append("log_format: json or console")
    if s.redis.wait_replicas < 0:
        problems.append("redis.wait_replicas: 0 or more")
    for addr in s.redis.sentinels:
        host, _, port = addr.rpartition(":")
        if not host or not port.isdigit():
            problems.append(f"redis.sentinels: {addr!r} is not host:port")
    if s.metrics_bind:
        host, _, port = s.metrics_bind.rpartition(":")
        if not host or not port.isdigit():
            problems.append(f"metrics_bind: {s.metrics_bind!r} is not host:port")
    for net in s.trusted_proxies:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            problems.append(f"trusted_proxies: {net!r} is not an address or network")
    for name in ("password", "sentinel_password"):
        if getattr(s.redis, name) and getattr(s.redis, name + "_file"):
            problems.append(f"redis.{name}: give it or redis.{name}_file, not both")
    if bool(s.redis.tls_cert_file) != bool(s.redis.tls_key_file):
        problems.append("redis.tls_cert_file and redis.tls_key_file go together")
    if s.redis.retry_budget_s <= 0:
        problems.append("redis.retry_budget_s: must be positive")
    if s.redis.wait_replicas and s.redis.wait_timeout_ms >= s.redis.socket_timeout_s * 1000:
        # WAIT runs inside the attempt it confirms: it must end before the attempt does.
        problems.append("redis.wait_timeout_ms: must be below redis.socket_timeout_s "
                        "(one attempt, WAIT included)")
    lt = s.lifetimes
    for f in dataclasses.fields(lt):
        if getattr(lt, f.name) <= 0:
            problems.append(f"lifetimes.{f.name}: must be positive")
    if lt.authorization_code > 60:
        problems.append("lifetimes.authorization_code: at most 60 s (RFC 9700 §4.2.1)")
    if lt.id_token > 300:
        problems.append("lifetimes.id_token: at most 300 s (Swedish OIDC profile)")
    if lt.login_transaction_unopened > lt.login_transaction:
        problems.append("lifetimes.login_transaction_unopened: must not exceed login_transaction")
    if lt.session_idle > lt.session_absolute:
        problems.append("lifetimes.session_idle: must not exceed session_absolute")
    if min(s.pin.max_failures_per_person, s.pin.max_failures_per_ip,
           s.pin.max_failures_per_person_ip) < 1:
        problems.append("pin.max_failures_*: at least 1")


def load_settings(config_file: str | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (``config_file`` or ``IDPORTAL_CONFIG``), apply the environment,
    validate, and return the frozen Settings or raise ``SettingsError`` with every problem."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    data: dict[str, Any] = {}
    path = config_file or environ.get(ENV_PREFIX + "CONFIG")
    base: Path | None = None
    if path:
        try:
            data = tomllib.loads(Path(path).read_text())
            base = Path(path).resolve().parent
        except OSError as exc:
            problems.append(f"config file {path}: {exc.strerror}")
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"config file {path}: {exc}")
    data = _merge(data, _env_tree(environ))
    settings = _build(Settings, data, "", base, problems)
    _check(settings, problems)
    if problems:
        raise SettingsError(problems)
    return typing.cast(Settings, settings)


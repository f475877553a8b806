"""One immutable Settings, built once from a TOML file and ``IDPORTAL_*`` variables,
validated by pydantic.

Every problem is reported at once (``SettingsError`` lists them all), each with the path
of its key (``redis.wait_replicas``); an unknown key, in the file or the environment, is
a problem too (a typo must not pass unnoticed). Environment variables override the file:
``IDPORTAL_ISSUER``, ``IDPORTAL_REDIS__SENTINELS=127.0.0.1:26379,127.0.0.1:26380``
(``__`` for nesting, commas for lists). Relative paths in the file are taken from the
file's folder.

Why not pydantic-settings' own sources: its environment source passes over variables it
has no field for (a misspelt ``IDPORTAL_REDIS__PASWORD`` would be ignored) and reads
lists only as JSON; the merge below is twenty lines and reports both.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from service import loa

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


def _comma_list(value: Any) -> Any:
    """A list from the environment is written with commas."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{value!r} is not host:port")
    return value


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an address or network") from None
    return value


def _issuer(value: str) -> str:
    url = urlsplit(value)
    if url.scheme not in {"https", "http"} or not url.hostname or url.query or url.fragment:
        raise ValueError("must be an https URL without query or fragment")
    if url.scheme == "http" and url.hostname not in {"127.0.0.1", "localhost"}:
        raise ValueError("plain http is only allowed on loopback")
    return value


def _api_url(value: str) -> str:
    url = urlsplit(value)
    if url.scheme not in {"https", "http"} or not url.hostname or url.query or url.fragment:
        raise ValueError("must be an http(s) URL without query or fragment")
    return value


List = Annotated[tuple[str, ...], BeforeValidator(_comma_list)]
HostPort = Annotated[str, AfterValidator(_host_port)]
Seconds = Annotated[int, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RedisSettings(_Model):
    """Where sessions live. ``sentinels`` set: the HA store; else ``url`` (development)."""

    url: str = "redis://127.0.0.1:6380/0"
    sentinels: Annotated[tuple[HostPort, ...], BeforeValidator(_comma_list)] = ()
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
    wait_replicas: Annotated[int, Field(ge=0)] = 1
    wait_timeout_ms: Annotated[int, Field(gt=0)] = 500
    # How long one store call may ride out a failover before it answers 503. Sentinel
    # promotes a replica in ~2.3 s here (down-after 1000 ms), so 6 s leaves room.
    retry_budget_s: Annotated[float, Field(gt=0)] = 6.0
    # The longest one attempt of a store call may take, all its commands together (and
    # the connect timeout): a primary that stops answering is given up on and retried.
    socket_timeout_s: Annotated[float, Field(gt=0)] = 1.0
    max_connections: Annotated[int, Field(gt=0)] = 64

    @model_validator(mode="after")
    def _consistent(self) -> RedisSettings:
        problems = []
        if self.wait_replicas and self.wait_timeout_ms >= self.socket_timeout_s * 1000:
            # WAIT runs inside the attempt it confirms: it must end before the attempt does.
            problems.append("wait_timeout_ms: must be below socket_timeout_s (one attempt, "
                            "WAIT included)")
        for name in ("password", "sentinel_password"):
            if getattr(self, name) and getattr(self, name + "_file"):
                problems.append(f"{name}: give it or {name}_file, not both")
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            problems.append("tls_cert_file: goes together with tls_key_file")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Lifetimes(_Model):
    """The one TTL table (seconds): every key in the store, every token and cookie takes
    its lifetime from here, and every entry is used."""

    # A login transaction (sealed in the browser) lives this long from /authorize; its
    # "finished" marker in the store as long as the transaction could still be used.
    login_transaction: Seconds = 900
    authorization_code: Annotated[int, Field(gt=0, le=60)] = 60  # RFC 9700 §4.2.1: short
    # From the card listener back to the login: its sealed proof of the card is this
    # fresh or refused.
    card_proof: Annotated[int, Field(gt=0, le=300)] = 60
    # The Swedish OIDC profile: ID tokens live at most 5 minutes.
    id_token: Annotated[int, Field(gt=0, le=300)] = 300
    access_token: Seconds = 600
    refresh_token: Seconds = 8 * 3600  # absolute lifetime of a refresh-token family
    session_idle: Seconds = 1800
    session_absolute: Seconds = 8 * 3600
    pin_failure_window: Seconds = 900
    # An activation code (``idportal pin issue``) works this long: time for the letter.
    pin_activation: Seconds = 30 * 24 * 3600
    # The longest a client assertion (private_key_jwt) may live; its jti is remembered
    # that long (plus clock_skew) so that it cannot be replayed.
    client_assertion: Seconds = 600
    logout_token: Seconds = 120  # Back-Channel Logout 1.0: short-lived
    # An unarmed grant outlives its code by this much, so redeeming always finds it.
    unarmed_grant_grace: Seconds = 5
    # How long a browser stays "known" to a citizen (the PIN lockout's device cookie).
    known_browser: Seconds = 180 * 24 * 3600
    # Tokens are checked against this much clock difference between machines.
    clock_skew: Seconds = 30
    # A retired signing key stays published this long after the last token it signed
    # could expire (e-services cache JWKS).
    key_publication_margin: Seconds = 300
    # How long e-services and browsers may cache discovery and the API description.
    metadata_cache: Seconds = 300
    # Back-channel logout: how long a delivery is retried before it is given up, and how
    # long one node holds a claimed delivery before another may take it over.
    backchannel_delivery: Seconds = 3600
    backchannel_claim: Seconds = 15

    @model_validator(mode="after")
    def _ordered(self) -> Lifetimes:
        problems = []
        if self.session_idle > self.session_absolute:
            problems.append("session_idle: must not exceed session_absolute")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def key_publication(self) -> int:
        """How long a retired signing key stays in the JWKS."""
        return max(self.id_token, self.access_token) + self.key_publication_margin


class BankIDSettings(_Model):
    """The BankID RP API v6 endpoint. ``https`` URLs use mutual TLS with the files below."""

    base_url: Annotated[str, AfterValidator(_api_url)] = "http://127.0.0.1:8444/rp/v6.0"
    client_cert: str = ""
    client_key: str = ""
    ca_file: str = ""
    timeout_s: float = 5.0
    collect_interval_s: float = 2.0


class FrejaSettings(_Model):
    """The Freja eID REST API (authentication). ``https`` URLs use mutual TLS with the
    files below. Off until ``base_url`` is set."""

    base_url: str = ""  # e.g. "https://services.prod.frejaeid.com"
    client_cert: str = ""
    client_key: str = ""
    ca_file: str = ""
    # Freja's result-signing certificate (PEM): approved results are verified with it.
    jws_cert_file: str = ""
    timeout_s: float = 5.0
    poll_interval_s: float = 2.0

    @model_validator(mode="after")
    def _complete(self) -> FrejaSettings:
        if self.base_url and not self.jws_cert_file:
            raise ValueError("jws_cert_file: needed with base_url (results are verified)")
        return self


class HelpSettings(_Model):
    """What every page offers a citizen who is stuck (its footer)."""

    # The help pages: idportal's own by default, or the city's.
    url: str = "/help"
    # How to reach the city's support desk, shown as it is written.
    contact: str = "Stadens kundtjänst: 08-000 00 00, vardagar 8–17"
    # The accessibility statement Swedish public e-services must publish (DOS-lagen).
    accessibility_statement_url: str = "/accessibility"


class AuditSettings(_Model):
    """The audit trail: events wait in a Redis stream until a node ships them into
    PostgreSQL (``service.audit``). Without ``dsn`` they stay in the bounded stream."""

    # e.g. "postgresql://idportal@127.0.0.1:5433/idportal"; the password from a file.
    dsn: str = ""
    password_file: str = ""
    retention_days: Annotated[int, Field(ge=1)] = 730  # 24 months
    # The stream's bound (events not yet shipped): ~300 B each. AuditBacklog warns at
    # half of it; past it the oldest are trimmed.
    stream_max: Annotated[int, Field(ge=1000)] = 200_000
    ship_batch: Annotated[int, Field(ge=1, le=5000)] = 500


class SmartcardSettings(_Model):
    """The smart-card login: HAProxy's card listener asks for a client certificate and
    verifies it against the card CAs and CRLs it is configured with; nodes read what it
    passes on (``login.smartcard``). Off until ``login_url`` is set."""

    # The card listener's public base URL (its own host or port), e.g.
    # "https://kort.login.example.se"; "" turns smart-card login off.
    login_url: Annotated[str, AfterValidator(lambda v: _issuer(v) if v else v)] = ""
    # The card CAs (PEM bundle, intermediates included) the node checks the certificate
    # against once more; "" trusts the listener's check alone.
    trust_file: str = ""


class PinSettings(_Model):
    # A register file imported into the store at start for citizens it lacks ('' none;
    # a city imports its register once with `idportal pin import`).
    register_file: str = "config/pin-register.toml"
    # Where activation letters go (`idportal pin issue|reset`), one HTML file each.
    letters_dir: str = "var/pin-letters"
    # A person is locked from one address after 5 misses, from all after 20; an address
    # after 50 (any persons). Counters expire after lifetimes.pin_failure_window.
    max_failures_per_person_ip: Annotated[int, Field(ge=1)] = 5
    max_failures_per_person: Annotated[int, Field(ge=1)] = 20
    max_failures_per_ip: Annotated[int, Field(ge=1)] = 50
    # OWASP Password Storage Cheat Sheet: argon2id m=19 MiB, t=2, p=1.
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1


class Settings(_Model):
    issuer: Annotated[str, AfterValidator(_issuer)] = "https://127.0.0.1:8443"
    keys_dir: str = "var/keys"
    clients_file: str = "config/clients.toml"
    # Who may act for which organisation (``idportal representation``); no file: nobody.
    representation_file: str = "config/representation.toml"
    node_name: str = "node-1"
    default_locale: Literal["sv", "en"] = "sv"
    id_token_alg: Literal["ES256", "RS256"] = "ES256"
    # The LoA URIs this deployment states in acr: "certified" (loa2/loa3) only once DIGG
    # has reviewed it; until then "uncertified" (uncertified-loa2/-loa3).
    loa_uris: Literal["uncertified", "certified"] = "uncertified"
    log_format: Literal["json", "console"] = "json"
    log_level: str = "info"
    # Only behind HAProxy: take the client address from X-Forwarded-For when the
    # direct peer is one of these addresses or networks.
    trusted_proxies: Annotated[tuple[Annotated[str, AfterValidator(_network)], ...],
                               BeforeValidator(_comma_list)] = ()
    # host:port of the node's internal /metrics listener ("": none); `serve
    # --metrics-bind` overrides it. Keep it off every route the front door serves.
    metrics_bind: Annotated[str, AfterValidator(lambda v: _host_port(v) if v else v)] = ""
    max_body_bytes: int = 64 * 1024
    backchannel_timeout_s: float = 3.0
    # CA bundle that e-services' back-channel logout endpoints are verified with (PEM);
    # empty: the system's CAs. `cluster up` sets the local cluster's CA.
    backchannel_ca_file: str = ""
    # Certificates whose expiry the node reports as a metric besides the ones it uses
    # (name → PEM file), e.g. {front_door = "/etc/haproxy/login.pem"}.
    watched_certificates: dict[str, str] = Field(default_factory=dict)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    lifetimes: Lifetimes = Field(default_factory=Lifetimes)
    bankid: BankIDSettings = Field(default_factory=BankIDSettings)
    pin: PinSettings = Field(default_factory=PinSettings)
    smartcard: SmartcardSettings = Field(default_factory=SmartcardSettings)
    freja: FrejaSettings = Field(default_factory=FrejaSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    help: HelpSettings = Field(default_factory=HelpSettings)

    # Read on every request: computed once (the settings are frozen).
    @functools.cached_property
    def methods_available(self) -> tuple[str, ...]:
        """The ways in this deployment is configured for, strongest first."""
        off = ({"smartcard"} if not self.smartcard.login_url else set()) | (
            {"freja"} if not self.freja.base_url else set())
        return tuple(m for m in loa.METHODS if m not in off)

    @functools.cached_property
    def cookie_secure(self) -> bool:
        return self.issuer.startswith("https://")

    @functools.cached_property
    def loa_levels(self) -> tuple[str, ...]:
        """The LoA URIs this deployment states, LoA2 first (``loa_uris``)."""
        return loa.LEVELS[self.loa_uris]


_PATH_KEYS = {"keys_dir", "clients_file", "representation_file", "register_file",
              "letters_dir", "client_cert", "client_key", "ca_file", "backchannel_ca_file",
              "password_file", "sentinel_password_file", "tls_ca_file", "tls_cert_file",
              "tls_key_file", "trust_file", "jws_cert_file"}


def _rebase(data: Mapping[str, Any], base: Path) -> dict[str, Any]:
    """Relative paths in the file, taken from the file's folder."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, Mapping):
            out[k] = _rebase(v, base)
        elif k in _PATH_KEYS and isinstance(v, str) and v and not Path(v).is_absolute():
            out[k] = str(base / v)
        else:
            out[k] = v
    return out


def _env_tree(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        # IDPORTAL_CONFIG names the file; IDPORTAL_COMMIT is the build's (an image sets it,
        # idportal_build_info shows it): neither is a setting.
        if not name.startswith(ENV_PREFIX) or name in (ENV_PREFIX + "CONFIG",
                                                       ENV_PREFIX + "COMMIT"):
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


def _problems(exc: ValidationError) -> list[str]:
    """Each error as ``path.to.key: what is wrong``. A check across keys of one table
    (a model validator) names its key first, ``key: …``, and may list several (``; ``)."""
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
        if err["type"] == "extra_forbidden":
            out.append(f"{path}: unknown setting")
            continue
        for message in str(err["msg"]).removeprefix("Value error, ").split("; "):
            key, sep, rest = message.partition(": ")
            if sep and key.isidentifier():
                out.append(f"{path + '.' if path else ''}{key}: {rest}")
            else:
                out.append(f"{path}: {message}" if path else message)
    return out


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
    if base is not None:
        data = _rebase(data, base)
    data = _merge(data, _env_tree(environ))
    if problems:
        raise SettingsError(problems)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_problems(exc)) from None


"""E-services are configuration: the clients file (TOML), validated by pydantic, every
problem reported at once with the path of the setting it is about.

```toml
[[client]]
client_id = "mina-sidor"
name = "Mina sidor"
token_endpoint_auth_method = "client_secret_basic"  # or client_secret_post, private_key_jwt
secret_sha256 = "<hex>"            # from `idportal clients secret`; or jwks / jwks_file
redirect_uris = ["https://minasidor.example/callback"]
post_logout_redirect_uris = ["https://minasidor.example/"]
backchannel_logout_uri = "https://minasidor.example/backchannel-logout"
scopes = ["openid", "profile", "https://id.oidc.se/scope/naturalPersonNumber"]
claims = ["given_name", "family_name", "name", "https://id.oidc.se/claim/personalIdentityNumber"]
min_loa = "loa2"                   # or loa3
grant_types = ["authorization_code", "refresh_token"]
id_token_alg = "ES256"             # or RS256
userinfo_signed_response_alg = "ES256"  # userinfo as a signed JWT (default: plain JSON)
methods = ["bankid", "pin"]        # the ways in this e-service offers (filtered by its LoA)
organisation_context = false       # true: a representative may act for an organisation
subject_type = "pairwise"          # or public: the same sub for every e-service
sector_identifier = "minasidor.example"  # e-services of one sector see the same sub;
                                   # default: the one host of the redirect URIs
```
Secrets are stored as SHA-256 of a generated 256-bit secret: with that much entropy a
slow hash adds nothing but latency on every token request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from joserfc.jwk import KeySet
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from service import loa
from service.crypto import same
from service.oidc.claims import ALL_CLAIMS, SCOPES

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
GRANT_TYPES = ("authorization_code", "refresh_token")


class ClientsError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid clients file:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: str = "client_secret_basic"
    secret_sha256: str = ""
    jwks: KeySet | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str = ""
    scopes: frozenset[str] = frozenset({"openid"})
    claims: frozenset[str] = frozenset()
    min_loa: str = loa.LOA2
    grant_types: tuple[str, ...] = GRANT_TYPES
    id_token_alg: str = "ES256"
    sector: str = ""  # pairwise subjects for this sector; "" for the public subject
    userinfo_alg: str = ""  # sign userinfo answers with this ("": plain JSON)
    methods: tuple[str, ...] = loa.METHODS  # the ways in it offers
    organisation_context: bool = False  # a representative may act for an organisation
    extra: dict[str, Any] = field(default_factory=dict)

    def check_secret(self, presented: str) -> bool:
        if not self.secret_sha256 or not presented:
            return False
        return same(hashlib.sha256(presented.encode()).hexdigest(), self.secret_sha256)


SELF_SERVICE = "idportal"  # idportal's own page for citizens ("Mina inloggningar")
SELF_SERVICE_PATH = "/mina-inloggningar"


@dataclass(frozen=True)
class Registry:
    clients: dict[str, Client]

    def get(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def with_self_service(self, issuer: str) -> Registry:
        """The e-services plus idportal's own page for citizens, which logs them in like
        any e-service (LoA3: BankID, Freja eID+ or a card) and never redeems its code."""
        own = Client(client_id=SELF_SERVICE, name="Mina inloggningar",
                     redirect_uris=(issuer.rstrip("/") + SELF_SERVICE_PATH,),
                     min_loa=loa.LOA3, methods=("bankid", "freja", "smartcard"))
        return Registry({**self.clients, SELF_SERVICE: own})


def new_secret() -> tuple[str, str]:
    """A client secret and the SHA-256 to put in the clients file."""
    secret = secrets.token_urlsafe(32)
    return secret, hashlib.sha256(secret.encode()).hexdigest()


def _uri(uri: str) -> str:
    """An absolute https URL (plain http only on loopback), without a fragment."""
    parts = urlsplit(uri)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ValueError(f"{uri!r} must be an absolute https URL")
    if parts.scheme == "http" and parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"{uri!r}: plain http only on loopback")
    if parts.fragment:
        raise ValueError(f"{uri!r} must not have a fragment")
    return uri


def _one_of(allowed: tuple[str, ...], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r}")
        return value

    return check


def _loa(value: str) -> str:
    level = loa.normalise(value)
    if level not in loa.SUPPORTED:
        raise ValueError("loa2 or loa3")
    return level


Uri = Annotated[str, AfterValidator(_uri)]
Strict = ConfigDict(extra="forbid", frozen=True, strict=True)


class ClientConfig(BaseModel):
    """One ``[[client]]`` of the clients file, as written (the module docstring's shape).
    Strict: a list must be a list (``scopes = "openid profile"`` is refused, not read as
    fourteen one-letter scopes), a string a string."""

    model_config = Strict

    client_id: Annotated[str, Field(min_length=1, max_length=100)]
    name: str = ""
    redirect_uris: Annotated[list[Uri], Field(min_length=1)]
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post",
                                        "private_key_jwt"] = "client_secret_basic"
    secret_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    jwks: dict[str, Any] | None = None
    jwks_file: str | None = None
    post_logout_redirect_uris: list[Uri] = []
    backchannel_logout_uri: Uri | None = None
    scopes: list[Annotated[str, AfterValidator(_one_of(SCOPES, "scope"))]] = ["openid"]
    claims: list[Annotated[str, AfterValidator(_one_of(ALL_CLAIMS, "claim"))]] = []
    min_loa: Annotated[str, AfterValidator(_loa)] = "loa2"
    grant_types: list[Annotated[str, AfterValidator(_one_of(GRANT_TYPES, "grant type"))]] = \
        list(GRANT_TYPES)
    id_token_alg: Literal["ES256", "RS256"] = "ES256"
    userinfo_signed_response_alg: Literal["ES256", "RS256"] | None = None
    methods: Annotated[list[Annotated[str, AfterValidator(_one_of(loa.METHODS, "method"))]],
                       Field(min_length=1)] = list(loa.METHODS)
    organisation_context: bool = False
    subject_type: Literal["pairwise", "public"] = "pairwise"
    sector_identifier: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,99}$")] | None = None

    def sector(self) -> str:
        """The sector of a pairwise client: as configured, else the one host its
        redirect URIs share (OIDC Core §8.1); '' when public, or not to be told."""
        if self.subject_type == "public":
            return ""
        if self.sector_identifier:
            return self.sector_identifier
        hosts = {urlsplit(u).hostname or "" for u in self.redirect_uris}
        return hosts.pop() if len(hosts) == 1 else ""


def _sector_problems(cfg: ClientConfig, where: str) -> list[str]:
    if cfg.subject_type == "pairwise" and not cfg.sector():
        return [f"{where}.sector_identifier: required for pairwise subjects when the "
                "redirect URIs are on more than one host"]
    return []


def _credential_problems(raw: dict[str, Any], where: str) -> list[str]:
    """What the chosen authentication method needs (checked beside the fields, so that
    a missing secret is reported together with every other problem)."""
    if raw.get("token_endpoint_auth_method") == "private_key_jwt":
        if "jwks" not in raw and "jwks_file" not in raw:
            return [f"{where}: private_key_jwt needs jwks or jwks_file"]
    elif "secret_sha256" not in raw:
        return [f"{where}.secret_sha256: required, 64 lowercase hex digits "
                "(run 'idportal clients secret')"]
    return []


class ClientsFile(BaseModel):
    model_config = Strict

    client: Annotated[list[dict[str, Any]], Field(min_length=1)]


def _where(entry: Any, index: int) -> str:
    cid = entry.get("client_id") if isinstance(entry, dict) else None
    return f"client {cid!r}" if isinstance(cid, str) and cid else f"client[{index}]"


def _problems(where: str, exc: ValidationError) -> list[str]:
    """Every error pydantic found, each with the path of the setting it is about."""
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        out.append(f"{where}{'.' + path if path else ''}: {message}")
    return out


def _keyset(cfg: ClientConfig, where: str, base: Path | None,
            problems: list[str]) -> KeySet | None:
    if cfg.token_endpoint_auth_method != "private_key_jwt":
        return None
    data: Any = cfg.jwks
    if cfg.jwks_file is not None:
        path = Path(cfg.jwks_file)
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            problems.append(f"{where}.jwks_file: {exc}")
            return None
    try:
        return KeySet.import_key_set(data)
    except Exception as exc:  # the library raises several kinds for bad JWKS
        problems.append(f"{where}.jwks: not a valid JWKS ({exc})")
        return None


def _client(cfg: ClientConfig, keys: KeySet | None) -> Client:
    return Client(
        client_id=cfg.client_id, name=cfg.name or cfg.client_id,
        redirect_uris=tuple(cfg.redirect_uris),
        token_endpoint_auth_method=cfg.token_endpoint_auth_method,
        secret_sha256=cfg.secret_sha256 or "", jwks=keys,
        post_logout_redirect_uris=tuple(cfg.post_logout_redirect_uris),
        backchannel_logout_uri=cfg.backchannel_logout_uri or "",
        scopes=frozenset(cfg.scopes) | {"openid"}, claims=frozenset(cfg.claims),
        min_loa=cfg.min_loa, grant_types=tuple(cfg.grant_types), id_token_alg=cfg.id_token_alg,
        sector=cfg.sector(), userinfo_alg=cfg.userinfo_signed_response_alg or "",
        methods=tuple(m for m in loa.METHODS if m in cfg.methods),
        organisation_context=cfg.organisation_context,
    )


def parse(text: str, *, base: Path | None = None) -> Registry:
    """The registry of a clients file, or ``ClientsError`` listing every problem at once."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClientsError([f"not valid TOML: {exc}"]) from exc
    try:
        entries = ClientsFile.model_validate(data).client
    except ValidationError as exc:
        raise ClientsError([p.replace("client: ", "[[client]]: ") for p in _problems(
            "", exc)] or ["no [[client]] entries"]) from None
    problems: list[str] = []
    clients: dict[str, Client] = {}
    for i, raw in enumerate(entries):
        where = _where(raw, i)
        missing = _credential_problems(raw, where)
        problems += missing
        try:
            cfg = ClientConfig.model_validate(raw)
        except ValidationError as exc:
            problems += _problems(where, exc)
            continue
        if missing:
            continue
        sector_problems = _sector_problems(cfg, where)
        problems += sector_problems
        if sector_problems:
            continue
        keys = _keyset(cfg, where, base, problems)
        if cfg.token_endpoint_auth_method == "private_key_jwt" and keys is None:
            continue
        if cfg.client_id in clients:
            problems.append(f"{where}: defined twice")
        clients[cfg.client_id] = _client(cfg, keys)
    if problems:
        raise ClientsError(problems)
    return Registry(clients)


def load(path: str | Path) -> Registry:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ClientsError([f"{p}: {exc.strerror}"]) from exc
    return parse(text, base=p.resolve().parent)

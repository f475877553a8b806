"""E-services are configuration: the clients file (TOML), validated all at once.

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
```
Secrets are stored as SHA-256 of a generated 256-bit secret: with that much entropy a
slow hash adds nothing but latency on every token request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from joserfc.jwk import KeySet

from service.crypto import same
from service.login import loa
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
    extra: dict[str, Any] = field(default_factory=dict)

    def check_secret(self, presented: str) -> bool:
        if not self.secret_sha256 or not presented:
            return False
        return same(hashlib.sha256(presented.encode()).hexdigest(), self.secret_sha256)


@dataclass(frozen=True)
class Registry:
    clients: dict[str, Client]

    def get(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)


def new_secret() -> tuple[str, str]:
    """A client secret and the SHA-256 to put in the clients file."""
    secret = secrets.token_urlsafe(32)
    return secret, hashlib.sha256(secret.encode()).hexdigest()


def _uri_problems(where: str, uri: Any) -> list[str]:
    if not isinstance(uri, str):
        return [f"{where}: must be a string"]
    parts = urlsplit(uri)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        return [f"{where}: {uri!r} must be an absolute https URL"]
    if parts.scheme == "http" and parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        return [f"{where}: {uri!r} plain http only on loopback"]
    if parts.fragment:
        return [f"{where}: {uri!r} must not have a fragment"]
    return []


def _client(raw: dict[str, Any], where: str, base: Path | None,
            problems: list[str]) -> Client | None:
    known = {"client_id", "name", "redirect_uris", "token_endpoint_auth_method",
             "secret_sha256", "jwks", "jwks_file", "post_logout_redirect_uris",
             "backchannel_logout_uri", "scopes", "claims", "min_loa", "grant_types",
             "id_token_alg"}
    start = len(problems)
    for k in raw:
        if k not in known:
            problems.append(f"{where}.{k}: unknown setting")
    cid = raw.get("client_id")
    if not isinstance(cid, str) or not cid or len(cid) > 100:
        problems.append(f"{where}.client_id: required, a string of at most 100 characters")
        cid = "?"
    where = f"client {cid!r}"
    redirects = raw.get("redirect_uris", [])
    if not isinstance(redirects, list) or not redirects:
        problems.append(f"{where}.redirect_uris: at least one")
        redirects = []
    for u in redirects:
        problems += _uri_problems(f"{where}.redirect_uris", u)
    for u in raw.get("post_logout_redirect_uris", []):
        problems += _uri_problems(f"{where}.post_logout_redirect_uris", u)
    if raw.get("backchannel_logout_uri"):
        problems += _uri_problems(f"{where}.backchannel_logout_uri", raw["backchannel_logout_uri"])
    method = raw.get("token_endpoint_auth_method", "client_secret_basic")
    jwks = None
    if method not in AUTH_METHODS:
        problems.append(f"{where}.token_endpoint_auth_method: one of {', '.join(AUTH_METHODS)}")
    elif method == "private_key_jwt":
        data = raw.get("jwks")
        if raw.get("jwks_file"):
            path = Path(raw["jwks_file"])
            if base is not None and not path.is_absolute():
                path = base / path
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                problems.append(f"{where}.jwks_file: {exc}")
        try:
            jwks = KeySet.import_key_set(data) if data else None
        except Exception as exc:  # the library raises several kinds for bad JWKS
            problems.append(f"{where}.jwks: not a valid JWKS ({exc})")
        if jwks is None and not any(p.startswith(f"{where}.jwks") for p in problems):
            problems.append(f"{where}: private_key_jwt needs jwks or jwks_file")
    else:
        secret = raw.get("secret_sha256", "")
        if not (isinstance(secret, str) and len(secret) == 64
                and all(c in "0123456789abcdef" for c in secret)):
            problems.append(f"{where}.secret_sha256: 64 lowercase hex digits "
                            "(run 'idportal clients secret')")
    scopes = raw.get("scopes", ["openid"])
    for s in scopes:
        if s not in SCOPES:
            problems.append(f"{where}.scopes: unknown scope {s!r}")
    claims = raw.get("claims", [])
    for c in claims:
        if c not in ALL_CLAIMS:
            problems.append(f"{where}.claims: unknown claim {c!r}")
    min_loa = loa.normalise(raw.get("min_loa", "loa2"))
    if min_loa not in loa.SUPPORTED:
        problems.append(f"{where}.min_loa: loa2 or loa3")
    grants = raw.get("grant_types", list(GRANT_TYPES))
    for g in grants:
        if g not in GRANT_TYPES:
            problems.append(f"{where}.grant_types: unknown grant type {g!r}")
    alg = raw.get("id_token_alg", "ES256")
    if alg not in {"ES256", "RS256"}:
        problems.append(f"{where}.id_token_alg: ES256 or RS256")
    if len(problems) > start:
        return None
    return Client(
        client_id=cid, name=str(raw.get("name", cid)), redirect_uris=tuple(redirects),
        token_endpoint_auth_method=method, secret_sha256=raw.get("secret_sha256", ""),
        jwks=jwks, post_logout_redirect_uris=tuple(raw.get("post_logout_redirect_uris", [])),
        backchannel_logout_uri=raw.get("backchannel_logout_uri", ""),
        scopes=frozenset(scopes) | {"openid"}, claims=frozenset(claims), min_loa=min_loa,
        grant_types=tuple(grants), id_token_alg=alg,
    )


def parse(text: str, *, base: Path | None = None) -> Registry:
    problems: list[str] = []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClientsError([f"not valid TOML: {exc}"]) from exc
    entries = data.get("client", [])
    if not isinstance(entries, list) or not entries:
        raise ClientsError(["no [[client]] entries"])
    clients: dict[str, Client] = {}
    for i, raw in enumerate(entries):
        client = _client(raw, f"client[{i}]", base, problems)
        if client is None:
            continue
        if client.client_id in clients:
            problems.append(f"client {client.client_id!r}: defined twice")
        clients[client.client_id] = client
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

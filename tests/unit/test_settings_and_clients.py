from __future__ import annotations

from pathlib import Path

import pytest

from service.oidc import clients
from service.settings import SettingsError, load_settings


def test_settings_report_every_problem_at_once() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(environ={"IDPORTAL_ISSUER": "ftp://x", "IDPORTAL_REDIS__WAIT_REPLICAS": "x",
                               "IDPORTAL_NOPE": "1", "IDPORTAL_LIFETIMES__ID_TOKEN": "900"})
    text = str(err.value)
    for part in ("issuer", "redis.wait_replicas", "nope: unknown", "lifetimes.id_token"):
        assert part in text


def test_settings_read_toml_and_env_overrides(tmp_path: Path) -> None:
    f = tmp_path / "idp.toml"
    f.write_text('issuer = "https://login.example"\nkeys_dir = "k"\n[redis]\n'
                 'sentinels = ["127.0.0.1:1", "127.0.0.1:2"]\n')
    s = load_settings(str(f), environ={"IDPORTAL_REDIS__SERVICE_NAME": "x"})
    assert s.issuer == "https://login.example"
    assert s.keys_dir == str(tmp_path / "k")
    assert s.redis.sentinels == ("127.0.0.1:1", "127.0.0.1:2")
    assert s.redis.service_name == "x"


def test_plain_http_issuer_is_only_allowed_on_loopback() -> None:
    with pytest.raises(SettingsError):
        load_settings(environ={"IDPORTAL_ISSUER": "http://login.example"})
    assert load_settings(environ={"IDPORTAL_ISSUER": "http://127.0.0.1:8080"})


def test_settings_are_frozen() -> None:
    from pydantic import ValidationError

    s = load_settings(environ={})
    with pytest.raises(ValidationError):
        s.issuer = "x"  # type: ignore[misc]


def test_clients_check_lists_every_problem() -> None:
    text = """
[[client]]
client_id = "a"
redirect_uris = ["http://evil.example/cb", "https://ok.example/cb#frag"]
secret_sha256 = "nothex"
scopes = ["openid", "bogus"]
min_loa = "loa9"
[[client]]
client_id = "b"
redirect_uris = ["https://b.example/cb"]
token_endpoint_auth_method = "private_key_jwt"
"""
    with pytest.raises(clients.ClientsError) as err:
        clients.parse(text)
    problems = err.value.problems
    assert any("plain http" in p for p in problems)
    assert any("fragment" in p for p in problems)
    assert any("secret_sha256" in p for p in problems)
    assert any("bogus" in p for p in problems)
    assert any("min_loa" in p for p in problems)
    assert any("needs jwks" in p for p in problems)


def test_client_secret_check_is_against_the_stored_hash() -> None:
    secret, digest = clients.new_secret()
    reg = clients.parse(f'[[client]]\nclient_id = "a"\nredirect_uris = ["https://a.example/cb"]\n'
                        f'secret_sha256 = "{digest}"\n')
    client = reg.get("a")
    assert client is not None
    assert client.check_secret(secret)
    assert not client.check_secret(secret + "x")
    assert not client.check_secret("")


def test_shipped_clients_file_is_valid() -> None:
    reg = clients.load(Path(__file__).resolve().parents[2] / "config" / "clients.toml")
    assert {"mina-sidor", "bygglov"} <= set(reg.clients)


def test_a_wait_longer_than_an_attempt_is_refused_at_start_up() -> None:
    # WAIT runs inside the store attempt it confirms: at or past the attempt's bound,
    # every confirmed write would time out and be retried until the budget is spent.
    with pytest.raises(SettingsError, match=r"redis\.wait_timeout_ms"):
        load_settings(environ={"IDPORTAL_REDIS__WAIT_TIMEOUT_MS": "1000",
                               "IDPORTAL_REDIS__SOCKET_TIMEOUT_S": "1.0"})
    assert load_settings(environ={"IDPORTAL_REDIS__WAIT_TIMEOUT_MS": "1000",
                                  "IDPORTAL_REDIS__WAIT_REPLICAS": "0"})
    assert load_settings(environ={"IDPORTAL_REDIS__WAIT_TIMEOUT_MS": "1500",
                                  "IDPORTAL_REDIS__SOCKET_TIMEOUT_S": "2.5"})


def test_trusted_proxies_accept_networks_and_refuse_garbage() -> None:
    assert load_settings(environ={"IDPORTAL_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8"})
    with pytest.raises(SettingsError, match="trusted_proxies"):
        load_settings(environ={"IDPORTAL_TRUSTED_PROXIES": "not-an-ip"})


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    from starlette.requests import Request

    from service.web.http import client_ip

    def req(peer: str) -> Request:
        return Request({"type": "http", "client": (peer, 1), "headers": [
            (b"x-forwarded-for", b"203.0.113.9, 198.51.100.7")]})

    assert client_ip(req("10.1.2.3"), ("10.0.0.0/8",)) == "198.51.100.7"
    assert client_ip(req("192.0.2.1"), ("10.0.0.0/8",)) == "192.0.2.1"
    assert client_ip(req("10.1.2.3"), ()) == "10.1.2.3"


def test_every_lifetime_in_the_ttl_table_is_used() -> None:
    """The one TTL table is true: no entry that nothing reads."""
    import re
    from pathlib import Path

    from service.settings import Lifetimes

    source = "\n".join(p.read_text() for p in Path("service").rglob("*.py"))
    unused = [name for name in Lifetimes.model_fields
              if not re.search(rf"\.{name}\b", source)]
    assert unused == []


@pytest.mark.parametrize(("text", "expected"), [
    ('scopes = 5', "client 'a'.scopes: Input should be a valid list"),
    ('scopes = "openid profile"', "client 'a'.scopes: Input should be a valid list"),
    ('claims = ["name", 7]', "client 'a'.claims.1: Input should be a valid string"),
    ('colour = "blue"', "client 'a'.colour: Extra inputs are not permitted"),
    ('id_token_alg = "none"', "client 'a'.id_token_alg: Input should be 'ES256' or 'RS256'"),
    ('redirect_uris = []', "client 'a'.redirect_uris: List should have at least 1 item"),
    ('min_loa = 3', "client 'a'.min_loa: Input should be a valid string"),
])
def test_a_bad_value_is_named_with_its_path_not_misread(text: str, expected: str) -> None:
    base = ('[[client]]\nclient_id = "a"\nredirect_uris = ["https://a.example/cb"]\n'
            'secret_sha256 = "' + "0" * 64 + '"\n')
    lines = [ln for ln in base.splitlines() if ln.split(" =")[0] != text.split(" =")[0]]
    with pytest.raises(clients.ClientsError) as err:
        clients.parse("\n".join([*lines, text]) + "\n")
    assert any(p.startswith(expected) for p in err.value.problems), err.value.problems


@pytest.mark.parametrize("text", ["", "client = 5", "[client]\nclient_id = 'a'",
                                  "[[client]]\nclient_id = 7"])
def test_a_clients_file_of_the_wrong_shape_is_refused_with_reasons(text: str) -> None:
    with pytest.raises(clients.ClientsError) as err:
        clients.parse(text)
    assert err.value.problems and all(": " in p for p in err.value.problems)


def test_clients_check_reports_bad_files_without_a_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "clients.toml"
    bad.write_text('[[client]]\nclient_id = "a"\nredirect_uris = ["https://a.example/cb"]\n'
                   'scopes = 5\nsecret_sha256 = "x"\n')
    r = subprocess.run([sys.executable, "-m", "service.cli", "clients", "check", str(bad)],
                       capture_output=True, text=True, timeout=60, check=False)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "Traceback" not in out
    assert "client 'a'.scopes" in out and "client 'a'.secret_sha256" in out


def test_every_settings_problem_comes_with_its_path() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(environ={
            "IDPORTAL_REDIS__PASWORD": "typo", "IDPORTAL_PIN__MAX_FAILURES_PER_IP": "0",
            "IDPORTAL_LIFETIMES__SESSION_IDLE": "99999", "IDPORTAL_METRICS_BIND": "nowhere",
            "IDPORTAL_REDIS__SENTINELS": "127.0.0.1:1,bad", "IDPORTAL_LOG_FORMAT": "xml",
            "IDPORTAL_BANKID__BASE_URL": "bankid.example/rp/v6.0"})
    text = "\n".join(err.value.problems)
    for path in ("redis.pasword: unknown setting",
                 "pin.max_failures_per_ip:", "lifetimes.session_idle: must not exceed",
                 "metrics_bind:", "redis.sentinels:", "log_format:",
                 "bankid.base_url: must be an http(s) URL"):
        assert path in text, text


def test_the_builds_commit_in_the_environment_is_no_setting() -> None:
    from service.settings import load_settings

    settings = load_settings(environ={"IDPORTAL_COMMIT": "abc123", "IDPORTAL_NODE_NAME": "n"})
    assert settings.node_name == "n"

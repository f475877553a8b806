"""Pairwise subjects (OIDC Core §8.1): e-services of one sector see a citizen under the
same ``sub``, of another sector under another; the public ``sub`` is for the e-services
configured so; none of them is the personal number, and key rotation changes none."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.oidc import clients, keyring

PNR = "198112189876"
BASE = '''[[client]]
client_id = "{cid}"
secret_sha256 = "{h}"
redirect_uris = {uris}
{extra}
'''
H = "0" * 64


def registry(*entries: str) -> clients.Registry:
    return clients.parse("\n".join(entries))


def entry(cid: str, uris: str, extra: str = "") -> str:
    return BASE.format(cid=cid, h=H, uris=uris, extra=extra)


@pytest.fixture
def ring(tmp_path: Path) -> keyring.KeyRing:
    keyring.generate(tmp_path)
    return keyring.load(tmp_path, publish_for=600)


def test_e_services_of_one_sector_see_the_same_subject(ring: keyring.KeyRing) -> None:
    reg = registry(entry("a", '["https://a.stad.example/cb"]', 'sector_identifier = "skola"'),
                   entry("b", '["https://b.stad.example/cb"]', 'sector_identifier = "skola"'))
    a, b = reg.get("a"), reg.get("b")
    assert a and b and ring.subject(PNR, a.sector) == ring.subject(PNR, b.sector)


def test_e_services_of_two_sectors_see_two_subjects(ring: keyring.KeyRing) -> None:
    reg = registry(entry("a", '["https://a.stad.example/cb"]', 'sector_identifier = "skola"'),
                   entry("b", '["https://b.stad.example/cb"]', 'sector_identifier = "vard"'))
    a, b = reg.get("a"), reg.get("b")
    assert a and b and ring.subject(PNR, a.sector) != ring.subject(PNR, b.sector)


def test_without_a_sector_the_redirect_uris_host_is_the_sector() -> None:
    reg = registry(entry("a", '["https://a.example/cb", "https://a.example/cb2"]'),
                   entry("b", '["https://b.example/cb"]'))
    assert reg.get("a").sector == "a.example" and reg.get("b").sector == "b.example"  # type: ignore[union-attr]


def test_redirect_uris_on_two_hosts_need_a_sector_identifier() -> None:
    with pytest.raises(clients.ClientsError, match="sector_identifier: required"):
        registry(entry("a", '["https://a.example/cb", "https://b.example/cb"]'))


def test_a_sector_identifier_is_a_plain_name() -> None:
    with pytest.raises(clients.ClientsError, match="sector_identifier"):
        registry(entry("a", '["https://a.example/cb"]', 'sector_identifier = "A B/../c"'))


def test_a_public_e_service_sees_the_public_subject_and_no_pairwise_one(
        ring: keyring.KeyRing) -> None:
    reg = registry(entry("p", '["https://p.example/cb"]', 'subject_type = "public"'),
                   entry("a", '["https://p.example/cb2"]'))
    p, a = reg.get("p"), reg.get("a")
    assert p and a and p.sector == ""
    assert ring.subject(PNR, p.sector) == ring.subject(PNR)
    assert ring.subject(PNR, a.sector) != ring.subject(PNR)


def test_no_subject_is_the_personal_number_or_a_part_of_it(ring: keyring.KeyRing) -> None:
    for sector in ("", "skola", "vard"):
        sub = ring.subject(PNR, sector)
        assert PNR not in sub and PNR[2:] not in sub and len(sub) >= 26


def test_key_rotation_and_a_restart_change_no_subject(tmp_path: Path) -> None:
    keyring.generate(tmp_path)
    before = keyring.load(tmp_path, publish_for=600)
    keyring.rotate(tmp_path, publish_for=600)
    after = keyring.load(tmp_path, publish_for=600)  # a node started after the rotation
    assert before.signing["ES256"].kid != after.signing["ES256"].kid
    for sector in ("", "skola"):
        assert before.subject(PNR, sector) == after.subject(PNR, sector)

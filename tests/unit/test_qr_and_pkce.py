from __future__ import annotations

from service.login import qr
from service.oidc import pkce
from simulators.bankid.camera import read_svg


def test_qr_auth_code_matches_the_reference_vector() -> None:
    assert qr.auth_code("d28db9a7-4cde-429e-a983-359be676944c", 0) == (
        "dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8")


def test_qr_payload_has_the_animated_format() -> None:
    p = qr.payload("tok", "d28db9a7-4cde-429e-a983-359be676944c", 0)
    assert p == "bankid.tok.0.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"


def test_qr_svg_reads_back_to_the_payload_and_never_contains_the_secret() -> None:
    secret = "d28db9a7-4cde-429e-a983-359be676944c"
    data = qr.payload("67df3917-fa0d-44e5-b327-edcc928297f8", secret, 12)
    svg = qr.svg(data, title="QR")
    assert secret not in svg
    assert read_svg(svg) == data


def test_autostart_link_returns_to_the_browser_by_itself() -> None:
    assert qr.autostart_link("abc") == "bankid:///?autostarttoken=abc&redirect=null"


def test_pkce_s256_verifies_rfc7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce.verify(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


def test_pkce_rejects_a_plain_verifier_equal_to_the_challenge() -> None:
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert not pkce.verify(challenge, challenge)


def test_pkce_rejects_short_or_bad_verifiers() -> None:
    assert not pkce.verify("short", pkce.s256("short"))
    assert not pkce.verify("a" * 43 + "!", pkce.s256("a" * 43 + "!"))

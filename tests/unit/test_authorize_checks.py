from __future__ import annotations

from pathlib import Path

import pytest

from service import loa
from service.errors import AuthorizeError
from service.oidc import clients
from service.oidc.authorize_checks import validate

REG = clients.load(Path(__file__).resolve().parents[1] / "data" / "clients.toml")
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def params(**kw: str) -> dict[str, str]:
    base = {"client_id": "rp-basic", "redirect_uri": "https://rp.test/cb", "response_type": "code",
            "scope": "openid profile", "state": "s1", "code_challenge": CHALLENGE,
            "code_challenge_method": "S256"}
    base.update(kw)
    return {k: v for k, v in base.items() if v != "<drop>"}


def fails(p: dict[str, str], repeated: set[str] | None = None) -> AuthorizeError:
    with pytest.raises(AuthorizeError) as err:
        validate(p, repeated or set(), REG)
    return err.value


def test_valid_request_passes() -> None:
    req = validate(params(nonce="n", prompt="login", max_age="30", ui_locales="en-GB sv"), set(), REG)
    assert req.scope == ("openid", "profile")
    assert req.max_age == 30 and req.ui_locales == ("en", "sv")


def test_unknown_client_never_redirects() -> None:
    assert not fails(params(client_id="nobody")).may_redirect


def test_unregistered_redirect_uri_never_redirects() -> None:
    for uri in ("https://rp.test/cb/", "https://rp.test/cb?x=1", "https://evil.test/cb",
                "https://RP.test/cb", "<drop>"):
        assert not fails(params(redirect_uri=uri)).may_redirect


def test_repeated_client_id_or_redirect_uri_never_redirects() -> None:
    assert not fails(params(), {"client_id"}).may_redirect
    assert not fails(params(), {"redirect_uri"}).may_redirect


def test_other_repeated_parameters_redirect_with_invalid_request() -> None:
    err = fails(params(), {"scope"})
    assert err.may_redirect and err.error == "invalid_request"


@pytest.mark.parametrize(("change", "error"), [
    ({"response_type": "<drop>"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": "code id_token"}, "unsupported_response_type"),
    ({"scope": "profile"}, "invalid_scope"),
    ({"code_challenge": "<drop>"}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": "<drop>"}, "invalid_request"),
    ({"code_challenge": "short"}, "invalid_request"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"prompt": "bogus"}, "invalid_request"),
    ({"max_age": "-1"}, "invalid_request"),
    ({"claims": "{not json"}, "invalid_request"),
    ({"request": "eyJ..."}, "invalid_request_object"),
    ({"request_uri": "https://x"}, "request_uri_not_supported"),
    ({"response_mode": "fragment"}, "invalid_request"),
    ({"acr_values": "urn:unknown"}, "unmet_authentication_requirements"),
    ({"state": "x" * 3000}, "invalid_request"),
])
def test_bad_requests_redirect_with_the_right_error(change: dict[str, str], error: str) -> None:
    err = fails(params(**change))
    assert err.error == error
    assert err.may_redirect


def test_state_is_echoed_on_redirected_errors() -> None:
    assert fails(params(response_type="token")).state == "s1"


def test_unknown_parameters_are_ignored() -> None:
    assert validate(params(foo="bar"), set(), REG)


def test_scopes_the_client_is_not_configured_for_are_dropped() -> None:
    req = validate(params(client_id="rp-noclaims", redirect_uri="https://other.test/cb"), set(), REG)
    assert req.scope == ("openid",)


def test_loa_required_is_the_higher_of_request_and_client_minimum() -> None:
    for levels in (loa.CERTIFIED, loa.UNCERTIFIED):
        lo, hi = levels
        assert loa.required_rank((lo,), loa.LOA3, levels) == 3
        assert loa.required_rank((hi, lo), loa.LOA2, levels) == 2
        assert loa.required_rank((), loa.LOA2, levels) == 2
        assert loa.required_rank(("urn:x",), loa.LOA2, levels) is None


def test_a_level_the_deployment_does_not_state_cannot_be_asked_for() -> None:
    # A deployment DIGG has not reviewed cannot truthfully answer a request for loa3.
    assert loa.required_rank((loa.LOA3,), loa.LOA2, loa.UNCERTIFIED) is None
    assert loa.required_rank((loa.UNCERTIFIED_LOA3,), loa.LOA2, loa.CERTIFIED) is None
    assert loa.stated("bankid", loa.UNCERTIFIED) == loa.UNCERTIFIED_LOA3
    assert loa.stated("pin", loa.CERTIFIED) == loa.LOA2
    assert loa.methods_for(3) == ("bankid", "freja", "smartcard")
    assert loa.methods_for(3, ("pin", "bankid")) == ("bankid",)
    assert loa.methods_for(2) == loa.METHODS

"""The OpenID Foundation's Config OP plan (``oidcc-config-certification-test-plan``),
module by module, plus what the Swedish OIDC profile (oidc-sweden, ../shared/REFERENCE.md)
adds to discovery: an e-service developer's profile-conformant library finds everything
the profile promises."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from service import loa
from tests.conftest import World

pytestmark = pytest.mark.integration
PROFILE_SCOPES = {"openid", "profile", "https://id.oidc.se/scope/naturalPersonInfo",
                  "https://id.oidc.se/scope/naturalPersonNumber"}
PROFILE_CLAIMS = {"sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
                  "https://id.oidc.se/claim/personalIdentityNumber",
                  "https://id.oidc.se/claim/coordinationNumber",
                  "https://id.oidc.se/claim/authnProvider", "given_name", "family_name", "name",
                  "birthdate"}


async def discovery(world: World) -> dict[str, Any]:
    r = await world.http.get("/.well-known/openid-configuration")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return dict(r.json())


async def test_oidcc_discovery_endpoint_verification(world: World) -> None:
    d = await discovery(world)
    assert d["issuer"] == world.settings.issuer
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint",
                     "jwks_uri", "end_session_endpoint"):
        assert urlsplit(d[endpoint]).scheme == "https" and d[endpoint].startswith(d["issuer"])
    assert d["response_types_supported"] == ["code"]
    assert set(d["subject_types_supported"]) == {"pairwise", "public"}
    assert {"RS256", "ES256"} <= set(d["id_token_signing_alg_values_supported"])
    assert "none" not in d["id_token_signing_alg_values_supported"]


async def test_oidcc_discovery_issuer_matches_the_url_it_is_served_under(world: World) -> None:
    d = await discovery(world)
    assert f"{d['issuer']}/.well-known/openid-configuration".startswith(world.settings.issuer)
    assert not d["issuer"].endswith("/")


async def test_oidcc_jwks_every_key_has_a_kid_use_and_no_private_part(world: World) -> None:
    jwks = (await world.http.get("/jwks")).json()
    kinds = {k["kty"] for k in jwks["keys"]}
    assert {"EC", "RSA"} <= kinds  # ES256 and RS256, as the profile requires
    for key in jwks["keys"]:
        assert key["kid"] and key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


async def test_swedish_profile_scopes_claims_and_levels_are_listed(world: World) -> None:
    d = await discovery(world)
    assert set(d["scopes_supported"]) >= PROFILE_SCOPES
    assert set(d["claims_supported"]) >= PROFILE_CLAIMS
    assert d["acr_values_supported"] == list(world.settings.loa_levels)
    assert set(d["acr_values_supported"]) <= {loa.LOA2, loa.LOA3, loa.UNCERTIFIED_LOA2,
                                              loa.UNCERTIFIED_LOA3}
    assert d["claims_parameter_supported"] is True


async def test_swedish_profile_client_authentication_and_pkce(world: World) -> None:
    d = await discovery(world)
    assert "private_key_jwt" in d["token_endpoint_auth_methods_supported"]
    assert {"RS256", "ES256"} <= set(d["token_endpoint_auth_signing_alg_values_supported"])
    assert d["code_challenge_methods_supported"] == ["S256"]  # plain refused


async def test_swedish_profile_request_objects_and_signed_userinfo(world: World) -> None:
    d = await discovery(world)
    assert d["request_parameter_supported"] is True
    assert d["request_uri_parameter_supported"] is False
    assert {"RS256", "ES256"} <= set(d["request_object_signing_alg_values_supported"])
    assert {"RS256", "ES256"} <= set(d["userinfo_signing_alg_values_supported"])


async def test_swedish_profile_parameter_extensions_are_announced(world: World) -> None:
    d = await discovery(world)
    assert d["https://id.oidc.se/disco/userMessageSupported"] is True
    assert set(d["https://id.oidc.se/disco/userMessageSupportedMimeTypes"]) == {
        "text/plain", "text/markdown"}
    assert d["https://id.oidc.se/disco/authnProviderSupported"] is True


async def test_logout_and_prompt_capabilities_are_announced(world: World) -> None:
    d = await discovery(world)
    assert d["backchannel_logout_supported"] is True
    assert d["backchannel_logout_session_supported"] is True
    assert {"none", "login"} <= set(d["prompt_values_supported"])
    assert d["authorization_response_iss_parameter_supported"] is True

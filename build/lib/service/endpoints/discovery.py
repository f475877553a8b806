"""``/.well-known/openid-configuration`` (OIDC Discovery 1.0 §3) and ``/jwks``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from service.oidc import extensions, sign_request
from service.oidc.claims import ALL_CLAIMS, SCOPES
from service.oidc.clients import AUTH_METHODS
from service.settings import Settings
from service.state import node
from service.web.http import JSONResponse


def cache_headers(settings: Settings) -> dict[str, str]:
    """Discovery, the JWKS and the API description may be cached this long."""
    return {"Cache-Control": f"public, max-age={settings.lifetimes.metadata_cache}"}


def metadata(s: Settings) -> dict[str, Any]:
    iss = s.issuer
    return {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/authorize",
        "token_endpoint": f"{iss}/token",
        "userinfo_endpoint": f"{iss}/userinfo",
        "jwks_uri": f"{iss}/jwks",
        "end_session_endpoint": f"{iss}/end_session",
        "revocation_endpoint": f"{iss}/revoke",
        "introspection_endpoint": f"{iss}/introspect",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "userinfo_signing_alg_values_supported": ["ES256", "RS256", "none"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
                             "sid", extensions.AUTHN_PROVIDER_CLAIM, sign_request.CLAIM,
                             *ALL_CLAIMS],
        "claims_parameter_supported": True,
        "request_parameter_supported": True,
        "request_object_signing_alg_values_supported": ["ES256", "RS256"],
        "request_uri_parameter_supported": False,
        "acr_values_supported": list(s.loa_levels),
        "prompt_values_supported": ["none", "login"],
        "ui_locales_supported": ["sv", "en"],
        "claim_types_supported": ["normal"],
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        # oidc.se Authentication Request Parameter Extensions 1.1
        "https://id.oidc.se/disco/userMessageSupported": True,
        "https://id.oidc.se/disco/userMessageSupportedMimeTypes": list(extensions.MIME_TYPES),
        "https://id.oidc.se/disco/authnProviderSupported": True,
    }


async def configuration(request: Request) -> JSONResponse:
    settings = node(request).settings
    return JSONResponse(metadata(settings), headers=cache_headers(settings))


async def jwks(request: Request) -> JSONResponse:
    n = node(request)
    return JSONResponse(n.keys.current.jwks(), headers=cache_headers(n.settings))

"""An OpenAPI 3.0 description of the JSON endpoints (served on ``/openapi.json``): for
e-service developers, and for the schema-driven fuzz run in the tests."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from service.endpoints.discovery import cache_headers
from service.state import node
from service.web.http import JSONResponse

_ERROR = {"type": "object", "required": ["error"],
          "properties": {"error": {"type": "string"}, "error_description": {"type": "string"},
                         "support_ref": {"type": "string"}}}
_FORM = "application/x-www-form-urlencoded"


def _form(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"required": True, "content": {_FORM: {"schema": {
        "type": "object", "properties": props, "required": required}}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_S = {"type": "string", "maxLength": 4096}
_CLIENT = {"client_id": _S, "client_secret": _S, "client_assertion": _S,
           "client_assertion_type": _S}
_ERRORS = {"400": _json(_ERROR, "bad request"), "401": _json(_ERROR, "client or token refused"),
           "413": _json(_ERROR, "body too large"), "415": _json(_ERROR, "wrong content type"),
           "503": _json(_ERROR, "session store unavailable")}


def spec(issuer: str) -> dict[str, Any]:
    obj = {"type": "object"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "idportal JSON endpoints", "version": "1"},
        "servers": [{"url": issuer}],
        "components": {"securitySchemes": {
            "basic": {"type": "http", "scheme": "basic"},
            "bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/.well-known/openid-configuration": {"get": {"responses": {
                "200": _json(obj, "OpenID Provider Metadata")}}},
            "/jwks": {"get": {"responses": {"200": _json(obj, "JSON Web Key Set")}}},
            "/token": {"post": {
                "security": [{"basic": []}, {}],
                "requestBody": _form({"grant_type": {"type": "string", "enum": [
                    "authorization_code", "refresh_token", "password"]},
                    "code": _S, "redirect_uri": _S, "code_verifier": _S, "refresh_token": _S,
                    "scope": _S, **_CLIENT}, ["grant_type"]),
                "responses": {"200": _json(obj, "tokens"), **_ERRORS}}},
            "/revoke": {"post": {
                "security": [{"basic": []}, {}],
                "requestBody": _form({"token": _S, "token_type_hint": _S, **_CLIENT}, ["token"]),
                "responses": {"200": {"description": "revoked (or unknown)"}, **_ERRORS}}},
            "/introspect": {"post": {
                "security": [{"basic": []}, {}],
                "requestBody": _form({"token": _S, "token_type_hint": _S, **_CLIENT}, ["token"]),
                "responses": {"200": _json(obj, "introspection"), **_ERRORS}}},
            "/userinfo": {
                "get": {"security": [{"bearer": []}, {}],
                        "responses": {"200": _json(obj, "claims"), **_ERRORS}},
                "post": {"security": [{"bearer": []}, {}],
                         "requestBody": _form({"access_token": _S}, []),
                         "responses": {"200": _json(obj, "claims"), **_ERRORS}}},
            "/healthz": {"get": {"responses": {"200": _json(obj, "alive")}}},
            "/readyz": {"get": {"responses": {"200": _json(obj, "ready"),
                                              "503": _json(obj, "not ready")}}},
        },
    }


async def openapi(request: Request) -> JSONResponse:
    settings = node(request).settings
    return JSONResponse(spec(settings.issuer), headers=cache_headers(settings))

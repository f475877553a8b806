"""A demo e-service ("Mina sidor", "Bygglov") that logs citizens in through idportal
with a standard OpenID Connect client library (Authlib's Starlette client): discovery,
code flow with PKCE S256, ID token validation, userinfo, RP-initiated logout and a
back-channel logout endpoint. Bygglov also asks the citizen to sign the application
(the oidc.se Signature Extension, with BankID) and verifies the signature.

    python -m demo.portal --client-id mina-sidor --port 8601 --issuer https://127.0.0.1:8443 \\
        --ca run/dev/pki/ca.pem --secret <secret> | --private-jwk FILE
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import secrets
import ssl
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import authlib.deprecate
import httpx
from hypercorn.config import Config
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, import_key
from signxml.verifier import XMLVerifier
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

# Authlib warns that its httpx integration will move to httpx2; the demo is fine on httpx.
warnings.filterwarnings("ignore", category=authlib.deprecate.AuthlibDeprecationWarning)
from authlib.integrations.starlette_client import OAuth, OAuthError  # noqa: E402
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign  # noqa: E402

from demo.backchannel import InvalidLogoutToken, SeenTokens, validate  # noqa: E402
from service.serve import run_until_signal  # noqa: E402

SCOPE = "openid profile https://id.oidc.se/scope/naturalPersonNumber"
PNR_CLAIM = "https://id.oidc.se/claim/personalIdentityNumber"
SIGN_REQUEST = "https://id.oidc.se/param/signRequest"
SIGNATURE_CLAIM = "https://id.oidc.se/claim/userSignature"


class ShortLivedKeyJWT(PrivateKeyJWT):  # type: ignore[misc]
    """private_key_jwt with an assertion that lives one minute (RFC 7523 §3: short). Authlib
    makes it live an hour, which idportal refuses: a stolen assertion must not last."""

    def sign(self, auth: Any, token_endpoint: str) -> bytes:
        return private_key_jwt_sign(  # type: ignore[no-any-return]
            auth.client_secret, client_id=auth.client_id, token_endpoint=token_endpoint,
            claims=self.claims, header=self.headers, alg=self.alg, expires_in=60)


def create_app(*, client_id: str, name: str, issuer: str, base_url: str, ca: str,
               secret: str = "", private_jwk: dict[str, Any] | None = None,
               bankid_ca_url: str = "") -> Starlette:
    oauth = OAuth()
    kwargs: dict[str, Any] = {"scope": SCOPE, "code_challenge_method": "S256",
                              "verify": ssl.create_default_context(cafile=ca)}
    extra: dict[str, Any] = {}
    client_secret: Any = secret
    if private_jwk is not None:
        # The key as a key object, with its own algorithm: given as text, Authlib would
        # read it as an RSA key and sign RS256 (Bygglov's key is an EC P-256 key).
        kwargs["token_endpoint_auth_method"] = "private_key_jwt"
        key = import_key(private_jwk)
        extra["client_auth_methods"] = [ShortLivedKeyJWT(issuer + "/token",
                                                          alg=private_jwk.get("alg", "ES256"))]
        client_secret = key
    oauth.register("idp", client_id=client_id, client_secret=client_secret,
                   server_metadata_url=issuer + "/.well-known/openid-configuration",
                   client_kwargs=kwargs, **extra)
    # Sessions the OP told us about (back-channel logout): by sid, or every session of a
    # sub when the token names no sid. The demo keeps its sessions in a signed cookie, so
    # it remembers what ended instead of deleting it.
    logged_out_sids: set[str] = set()
    logged_out_subs: set[str] = set()
    seen = SeenTokens()

    def page(body: str) -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><html lang=sv><meta charset=utf-8>"
                            f"<title>{html.escape(name)}</title><h1>{html.escape(name)}</h1>{body}")

    async def home(request: Request) -> Response:
        user = request.session.get("user")
        if user and (user.get("sid") in logged_out_sids or (
                user.get("sub") in logged_out_subs and not user.get("sid"))):
            request.session.clear()
            user = None
        if not user:
            return page("<p>Du är inte inloggad.</p><p><a href='/login'>Logga in</a></p>")
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                       for k, v in user.items() if k != "id_token")
        signed = request.session.get("signed")
        signing = ""
        if signed:
            signing = (f"<p id='signed'>Signerad ansökan: <q>{html.escape(signed['text'])}</q>. "
                       f"{html.escape(signed['verdict'])}</p>")
        elif bankid_ca_url:
            signing = "<p><a href='/sign'>Skriv under ansökan med BankID</a></p>"
        return page(f"<p>Välkommen, {html.escape(user.get('given_name', ''))}!</p>"
                    f"<table>{rows}</table>{signing}<p><a href='/logout'>Logga ut</a></p>")

    async def login(request: Request) -> Response:
        return await oauth.idp.authorize_redirect(request, base_url + "/callback",  # type: ignore[no-any-return]
                                                  nonce=secrets.token_urlsafe(16))

    async def sign(request: Request) -> Response:
        """Ask the logged-in citizen to sign the application (oidc.se Signature
        Extension): a signed request object with the signRequest, for this citizen only."""
        user = request.session.get("user") or {}
        pnr = user.get(PNR_CLAIM)
        if private_jwk is None or not bankid_ca_url or not pnr:
            return RedirectResponse("/", status_code=303)
        text = f"Jag ansöker om bygglov för Storgatan 1 ({user.get('name', '')})."
        document = f"Ansökan om bygglov, Storgatan 1, {pnr}".encode()
        request.session["signing"] = text
        now = int(time.time())
        key = import_key(private_jwk)
        request_object = jwt.encode({"alg": private_jwk.get("alg", "ES256"), "kid": key.kid}, {
            "iss": client_id, "aud": issuer, "iat": now, "exp": now + 60,
            "client_id": client_id, "response_type": "code",
            "redirect_uri": base_url + "/callback", "prompt": "login consent",
            "scope": "openid https://id.oidc.se/scope/sign",
            "claims": {"id_token": {PNR_CLAIM: {"essential": True, "value": pnr}}},
            SIGN_REQUEST: {"tbs_data": base64.b64encode(
                hashlib.sha256(document).digest()).decode(), "sign_message": {
                    "message#sv": base64.b64encode(text.encode()).decode(),
                    "mime_type": "text/plain"}}}, key)
        # authorize_redirect, with the request object added to the URL (Authlib's own
        # first argument is named ``request`` too).
        redirect_uri = base_url + "/callback"
        rv = await oauth.idp.create_authorization_url(redirect_uri,
                                                      nonce=secrets.token_urlsafe(16))
        await oauth.idp.save_authorize_data(request, redirect_uri=redirect_uri, **rv)
        return RedirectResponse(rv["url"] + "&" + urlencode({"request": request_object}),
                                status_code=302)

    async def userinfo(token: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """Userinfo, plain JSON or (Bygglov is registered so) a JWT signed by the OP:
        then its signature, iss and aud are checked (OIDC Core §5.3.2)."""
        metadata = await oauth.idp.load_server_metadata()
        resp = await oauth.idp.get(metadata["userinfo_endpoint"], token=token)
        resp.raise_for_status()
        if not resp.headers.get("content-type", "").startswith("application/jwt"):
            return dict(resp.json()), "JSON"
        keys = KeySet.import_key_set(await oauth.idp.fetch_jwk_set())
        decoded = jwt.decode(resp.text, keys, algorithms=["ES256", "RS256"])
        found = dict(decoded.claims)
        if found.get("iss") != metadata["issuer"] or found.get("aud") != client_id:
            raise OAuthError("invalid_userinfo", "signed userinfo for someone else")
        return found, f"signed JWT ({decoded.header['alg']})"

    async def verdict(signature_b64: str) -> str:
        """Whether the signature verifies against BankID's root, and what it signed."""
        try:
            async with httpx.AsyncClient() as http:
                root = (await http.get(bankid_ca_url)).content
            with tempfile.NamedTemporaryFile(suffix=".pem") as ca_file:
                ca_file.write(root)
                ca_file.flush()
                XMLVerifier().verify(base64.b64decode(signature_b64), ca_pem_file=ca_file.name)
        except Exception as exc:  # any failure means "not verified", shown as such
            return f"Signaturen kunde inte verifieras ({type(exc).__name__})."
        return "Signaturen är giltig (BankID)."

    async def callback(request: Request) -> Response:
        try:
            token = await oauth.idp.authorize_access_token(request)
        except OAuthError as exc:
            request.session.pop("signing", None)
            return page(f"<p>Inloggningen misslyckades: {html.escape(str(exc.error))}</p>")
        claims = dict(token.get("userinfo") or {})
        text = request.session.pop("signing", None)
        if text and claims.get(SIGNATURE_CLAIM):
            request.session["signed"] = {"text": text,
                                         "verdict": await verdict(claims[SIGNATURE_CLAIM])}
            return RedirectResponse("/", status_code=303)
        try:
            info, how = await userinfo(token)
        except (OAuthError, JoseError, httpx.HTTPError) as exc:
            return page(f"<p>Uppgifterna om dig kunde inte hämtas: "
                        f"{html.escape(type(exc).__name__)}</p>")
        claims.update(info)
        claims["userinfo"] = how
        claims["id_token"] = token["id_token"]
        request.session["user"] = {k: v for k, v in claims.items()
                                   if isinstance(v, str | int)}
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> Response:
        user = request.session.pop("user", None) or {}
        return await oauth.idp.logout_redirect(  # type: ignore[no-any-return]
            request, post_logout_redirect_uri=base_url + "/",
            id_token_hint=user.get("id_token"))

    async def backchannel(request: Request) -> Response:
        """Back-Channel Logout 1.0 §2.5-2.8: validate, forget the session, answer 200;
        anything wrong is a 400 with the reason (the OP logs it)."""
        form = await request.form()
        token = str(form.get("logout_token", ""))
        try:
            metadata = await oauth.idp.load_server_metadata()
            keys = KeySet.import_key_set(await oauth.idp.fetch_jwk_set())
            claims = validate(token, keys=keys, issuer=metadata["issuer"],
                              client_id=client_id, seen=seen)
        except InvalidLogoutToken as exc:
            return JSONResponse({"error": "invalid_request", "error_description": str(exc)},
                                status_code=400, headers={"Cache-Control": "no-store"})
        if isinstance(claims.get("sid"), str):
            logged_out_sids.add(claims["sid"])
        else:
            logged_out_subs.add(str(claims["sub"]))
        return Response(status_code=200, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[
        Route("/", home), Route("/login", login), Route("/callback", callback),
        Route("/sign", sign),
        Route("/logout", logout), Route("/backchannel-logout", backchannel, methods=["POST"]),
    ], middleware=[Middleware(SessionMiddleware, secret_key=secrets.token_urlsafe(32),
                              https_only=True, same_site="lax",
                              session_cookie="demo_" + client_id)])


def main() -> None:
    p = argparse.ArgumentParser(prog="demo-portal")
    p.add_argument("--client-id", required=True)
    p.add_argument("--name", default="")
    p.add_argument("--issuer", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--certfile", required=True)
    p.add_argument("--keyfile", required=True)
    p.add_argument("--secret", default="")
    p.add_argument("--private-jwk", default="")
    p.add_argument("--bankid-ca-url", default="",
                   help="the root of BankID's signing certificates: Bygglov asks to sign")
    a = p.parse_args()
    jwk = json.loads(Path(a.private_jwk).read_text()) if a.private_jwk else None
    base = f"https://127.0.0.1:{a.port}"
    app = create_app(client_id=a.client_id, name=a.name or a.client_id, issuer=a.issuer,
                     base_url=base, ca=a.ca, secret=a.secret, private_jwk=jwk,
                     bankid_ca_url=a.bankid_ca_url)
    config = Config()
    config.bind = [f"127.0.0.1:{a.port}"]
    config.certfile, config.keyfile = a.certfile, a.keyfile
    config.accesslog = None
    run_until_signal(app, config)


if __name__ == "__main__":
    main()

"""Smart card (a hard certificate on a card, LoA3): citizens' e-ID cards and city staff's
employee cards.

The TLS handshake that proves the card happens at the front door's card listener, its
own host or port (``Settings.smartcard.login_url``), because a browser only shows its
certificate choice to a server that asks during the handshake. The login's own pages
stay on the login host, where the login's cookies are. So:

1. ``/login/<tx>/smartcard`` (login host): insert the card, then a link to the listener.
2. ``/card/<tx>`` (card listener): HAProxy has verified the certificate against the card
   CAs and CRLs and passed it on (``providers.card_certificates``); a node believes that
   only from a trusted proxy. A card that cannot log in gets a page that says why and
   what to do; a good one is sealed (AES-GCM, bound to ``<tx>``, fresh for
   ``Lifetimes.card_proof``) and the browser is sent back to the login host with it.
3. ``/login/<tx>/smartcard/done`` (login host): the login's browser-bound transaction
   opens the sealed proof and finishes the login. The proof is of no use to anyone
   without that browser's cookies, and the login finishes once.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
from pathlib import Path

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509 import Certificate
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from service import metrics
from service.crypto import b64url, b64url_decode
from service.errors import PageError
from service.login import flow
from service.login.proof import Proof
from service.login.transaction import Transaction
from service.personnummer import InvalidPersonalNumber, parse
from service.providers import card_certificates as cards
from service.state import Node, node
from service.web import http, proxies
from service.web.render import page

log = structlog.get_logger("idportal.smartcard")

NAME = "smartcard"
# Set by the card listener (HAProxy), removed from every request a client sends.
CERT_HEADER = "x-client-cert"
VERIFY_HEADER = "x-client-cert-verify"
PURPOSE = b"smart card proof v1"
_TX_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _tx_id(request: Request) -> str:
    tx_id = str(request.path_params["tx"])
    if not _TX_ID.fullmatch(tx_id):
        raise PageError("err_tx_expired", status=404)
    return tx_id


async def _tx(request: Request) -> tuple[Node, Transaction]:
    n, tx, _ = await flow.open_for(request, NAME, post=False)
    return n, tx


async def instructions(request: Request) -> Response:
    """GET /login/{tx}/smartcard: insert the card, then on to the card listener."""
    n, tx = await _tx(request)
    loc = flow.page_locale(request, n, tx)
    return page("smartcard.html", locale=loc, request_id=http.request_id(request),
                tx_id=tx.tx_id, csrf=tx.csrf, user_message=flow.user_message(tx, loc),
                card_url=f"{n.settings.smartcard.login_url.rstrip('/')}/card/{tx.tx_id}"
                         f"?lang={loc}",
                switch_url=f"/login/{tx.tx_id}/smartcard?lang={'en' if loc == 'sv' else 'sv'}")


async def card(request: Request) -> Response:
    """GET /card/{tx} on the card listener: the verified card, sealed and sent back to
    the login; or the page that says why this card cannot log in."""
    n = node(request)
    tx_id = _tx_id(request)
    loc = http.locale(request, (), n.settings.default_locale)
    peer = request.client.host if request.client else ""
    header = request.headers.get(CERT_HEADER, "")
    if header and not proxies.trusted(n.settings.trusted_proxies).trusts(peer):
        log.warning("smartcard_header_from_untrusted_peer", peer=peer)
        header = ""  # only the front door's card listener may say what the card is
    try:
        holder = cards.read(header, request.headers.get(VERIFY_HEADER, ""),
                            _anchors(n.settings.smartcard.trust_file), dt.datetime.now(dt.UTC))
    except cards.CardRefused as refused:
        metrics.LOGINS.labels(NAME, f"refused_{refused.reason}").inc()
        log.info("login", method=NAME, outcome="refused", reason=refused.reason,
                 detail=str(refused))
        return page("card_error.html", locale=loc, request_id=http.request_id(request),
                    status=403 if header else 401, reason=refused.reason,
                    back_url=f"{n.settings.issuer}/login/{tx_id}?lang={loc}")
    sealed = seal(holder, tx_id, n.keys.current.derived_key(PURPOSE), now=n.now())
    return RedirectResponse(f"{n.settings.issuer}/login/{tx_id}/smartcard/done?proof={sealed}",
                            status_code=303, headers={"Cache-Control": "no-store"})


async def done(request: Request) -> Response:
    """GET /login/{tx}/smartcard/done?proof=…: back on the login host, finish the login."""
    n, tx = await _tx(request)
    proof = unseal(request.query_params.get("proof", ""), tx.tx_id,
                   n.keys.current.derived_key(PURPOSE), now=n.now(),
                   max_age=n.settings.lifetimes.card_proof)
    if proof is None:
        metrics.LOGINS.labels(NAME, "bad_proof").inc()
        raise PageError("err_card_proof", status=403)
    return await flow.complete(request, n, tx, proof.identity(n.settings.loa_levels, n.now()))


def seal(holder: cards.CardHolder, tx_id: str, key: bytes, *, now: int) -> str:
    """The card holder, sealed for the login ``tx_id`` at ``now``."""
    body = json.dumps({"p": holder.person.digits, "g": holder.given_name,
                       "f": holder.family_name, "e": holder.employee_id,
                       "v": holder.evidence, "t": now}, separators=(",", ":")).encode()
    nonce = os.urandom(12)
    return b64url(nonce + _aead(key).encrypt(nonce, body, _aad(tx_id)))


def unseal(sealed: str, tx_id: str, key: bytes, *, now: int, max_age: int) -> Proof | None:
    """The proof sealed for ``tx_id`` no more than ``max_age`` seconds ago, else None."""
    if not sealed or len(sealed) > 2_000:
        return None
    try:
        raw = b64url_decode(sealed)
        body = json.loads(_aead(key).decrypt(raw[:12], raw[12:], _aad(tx_id)))
        person = parse(body["p"])
    except (ValueError, InvalidTag, KeyError, InvalidPersonalNumber):  # binascii.Error too
        return None
    if not 0 <= now - int(body["t"]) <= max_age:
        return None
    return Proof(person, body["g"], body["f"], NAME, level=3, evidence=body["v"],
                 employee_id=body["e"])


@functools.lru_cache(maxsize=4)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def _aad(tx_id: str) -> bytes:
    return b"idportal-card|" + tx_id.encode()


@functools.lru_cache(maxsize=2)
def _anchors(trust_file: str) -> tuple[Certificate, ...]:
    return cards.load_anchors(Path(trust_file).read_bytes()) if trust_file else ()


# The pages of this way in (service/login/methods.py mounts them).
ROUTES = (
    Route("/login/{tx}/smartcard", instructions, name="smartcard_page"),
    Route("/login/{tx}/smartcard/done", done, name="smartcard_done"),
    Route("/card/{tx}", card, name="smartcard_card"),
)

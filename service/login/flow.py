"""The login transaction from start to finish, shared by every login method.

``start`` makes a new transaction, bound to the browser (a ``__Host-`` cookie), hands
it to the browser sealed (``login.transaction``) and shows the method choice in the same
response (no redirect: one request less per login); ``guard`` opens it for a login page,
checking the browser and, on POST, the CSRF token; ``keep`` hands back a changed one;
``complete`` turns a proven identity into a new SSO session (new cookie value: no
fixation) and sends the code to the e-service.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time

import structlog
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from service import loa, metrics, observability
from service.audit.events import PSEUDONYM_PURPOSE, AuditEvent, pseudonym
from service.crypto import digest, new_id, same
from service.errors import AuthorizeError, PageError
from service.login import lockout, transaction
from service.login.transaction import Transaction
from service.oidc import claims as claims_mod
from service.oidc import extensions, sign_request
from service.personnummer import InvalidPersonalNumber, parse
from service.providers.representation import Representation
from service.records import AuthRequest, Identity
from service.sso.issue import mint_code, redirect_with_code
from service.sso.logout import end_session
from service.state import Node, node
from service.store import StoreUnavailable
from service.store.counters import PinAttempt
from service.web import devices, http, i18n
from service.web.errorpages import authorize_redirect
from service.web.render import page, user_message_html

log = structlog.get_logger("idportal.login")


async def start(request: Request, n: Node, req: AuthRequest, *,
                step_up_from: str = "", proven: Identity | None = None) -> Response:
    """A new login for ``req``: the method page. With ``proven`` (a live session whose
    citizen must choose whom they act for at this e-service) the context page instead."""
    secure = n.settings.cookie_secure
    browser = http.get_cookie(request, http.BROWSER_COOKIE, secure=secure)
    fresh = len(browser) < 32
    if fresh:
        browser = new_id(32)
    now = n.now()
    tx = Transaction(tx_id=new_id(24), request=req, browser=digest(browser), csrf=new_id(24),
                     created=now, expires=now + n.settings.lifetimes.login_transaction,
                     step_up_from=step_up_from, proven=proven.to_json() if proven else "")
    try:
        sealed = transaction.seal_new(tx, _key(n))
    except transaction.RequestTooLarge as exc:
        raise AuthorizeError("invalid_request", str(exc), redirect_uri=req.redirect_uri,
                             state=req.state) from None
    response: Response = RedirectResponse(f"/login/{tx.tx_id}/context", status_code=303) \
        if proven else choice_page(request, n, tx)
    _set(response, n, tx, sealed)
    if fresh:
        http.set_cookie(response, http.BROWSER_COOKIE, browser, secure=secure)
    return response


def keep(response: Response, n: Node, tx: Transaction) -> None:
    """Hand the browser ``tx`` as it is now (a BankID order started or changed)."""
    _set(response, n, tx, transaction.seal(tx, _key(n)))


def _set(response: Response, n: Node, tx: Transaction, sealed: str) -> None:
    http.add_cookie(response, _cookie_name(n), sealed, path=f"/login/{tx.tx_id}",
                    secure=n.settings.cookie_secure, max_age=max(tx.expires - n.now(), 1))


def _forget(response: Response, n: Node, tx: Transaction) -> None:
    http.add_cookie(response, _cookie_name(n), "", path=f"/login/{tx.tx_id}",
                    secure=n.settings.cookie_secure, max_age=0)


def _cookie_name(n: Node) -> str:
    # Scoped to its login's path, so not a __Host- cookie; sealed and bound to the
    # browser cookie (which is one), so a planted one is no use.
    return "__Secure-idp_login" if n.settings.cookie_secure else "idp_login"


def _key(n: Node) -> bytes:
    return n.keys.current.derived_key(transaction.PURPOSE)


def browser_digest(request: Request, n: Node) -> str:
    browser = http.get_cookie(request, http.BROWSER_COOKIE, secure=n.settings.cookie_secure)
    return digest(browser) if browser else ""


async def guard(request: Request, tx_id: str, *, csrf: str | None = None) -> Transaction:
    """The live transaction of this browser; with ``csrf`` given, it must match."""
    n = node(request)
    tx = transaction.unseal(request.cookies.get(_cookie_name(n), ""), tx_id, _key(n),
                            now=n.now())
    browser = http.get_cookie(request, http.BROWSER_COOKIE, secure=n.settings.cookie_secure)
    if tx is None:
        raise PageError("err_tx_expired", status=410)
    if not browser or not same(digest(browser), tx.browser):
        raise PageError("err_tx_expired", status=403)
    observability.bind(client_id=tx.request.client_id)
    if csrf is not None and not same(csrf, tx.csrf):
        raise PageError("err_csrf", status=403)
    return tx


async def open_for(request: Request, method: str, *, post: bool
                   ) -> tuple[Node, Transaction, dict[str, str]]:
    """A way in's page opens its login: on POST the form (its CSRF token checked), and
    the method must be one this login offers."""
    n = node(request)
    form: dict[str, str] = {}
    if post:
        form, _ = await http.form(request, limit=n.settings.max_body_bytes)
    tx = await guard(request, request.path_params["tx"],
                     csrf=form.get("csrf", "") if post else None)
    if method not in methods_of(n, tx):
        raise PageError("err_tx_expired", status=403)
    return n, tx, form


def methods_of(n: Node, tx: Transaction) -> tuple[str, ...]:
    """The ways in that reach the level this login needs; only the one the e-service
    named with ``authnProvider`` when it is one of them."""
    client = n.registry.get(tx.request.client_id)
    offered = client.methods if client else loa.METHODS
    methods = loa.methods_for(required_rank(n, tx), tuple(
        m for m in offered if m in n.settings.methods_available))
    if tx.request.sign:
        return tuple(m for m in methods if m == "bankid")  # only BankID signs
    named = extensions.method_of(tx.request.authn_provider, n.settings.issuer, methods) \
        if tx.request.authn_provider else ""
    return (named,) if named else methods


def message_of(tx: Transaction) -> extensions.UserMessage | None:
    """What the e-service wants the citizen to read: the text to sign, else its
    userMessage."""
    if tx.request.sign:
        return sign_request.SignRequest.from_dict(tx.request.sign).message
    return _user_message(tx)


def _user_message(tx: Transaction) -> extensions.UserMessage | None:
    if tx.request.user_message:
        return extensions.UserMessage.from_dict(tx.request.user_message)
    return None


def user_message(tx: Transaction, locale: str, client_name: str = "") -> Markup | str:
    """The e-service's message for the login pages, in the page's language. A text to
    sign for a citizen the e-service named is not shown here: only the BankID app shows
    it, once BankID has matched the person (the Signature Extension's rule)."""
    if tx.request.sign and identity_required(tx):
        return Markup("<p>") + escape(i18n.text(locale, "sign_in_app",
                                                client=client_name or "")) + Markup("</p>")
    message = message_of(tx)
    if message is None:
        return ""
    return user_message_html(message.text_for(locale), markdown=message.markdown)


def identity_required(tx: Transaction) -> str:
    """The personal number the e-service requires as an essential claim with a value:
    the BankID order is for that citizen only ('' when none)."""
    for member in ("id_token", "userinfo"):
        asked = tx.request.claims.get(member)
        wanted = asked.get(claims_mod.PNR) if isinstance(asked, dict) else None
        if isinstance(wanted, dict) and wanted.get("essential") and isinstance(
                wanted.get("value"), str):
            with contextlib.suppress(InvalidPersonalNumber):
                return parse(wanted["value"]).digits
    return ""


def page_locale(request: Request, n: Node, tx: Transaction) -> str:
    return http.locale(request, tx.request.ui_locales, n.settings.default_locale)


async def cancel(request: Request) -> Response:
    """POST /login/{tx}/cancel: the citizen gives up; back to the e-service with
    ``error=access_denied`` (and its state), the login finished for good."""
    n = node(request)
    form, _ = await http.form(request, limit=n.settings.max_body_bytes)
    tx = await guard(request, request.path_params["tx"], csrf=form.get("csrf", ""))
    metrics.LOGINS.labels("none", "cancelled").inc()
    log.info("login", outcome="cancelled", client_id=tx.request.client_id)
    await audit_failure(request, n, tx, "", "cancelled")
    response = authorize_redirect(AuthorizeError(
        "access_denied", "the citizen cancelled the login", redirect_uri=tx.request.redirect_uri,
        state=tx.request.state), n.settings.issuer)
    _forget(response, n, tx)
    return response


async def choose(request: Request) -> Response:
    """GET /login/{tx}: the methods that reach the level this e-service needs."""
    n = node(request)
    return choice_page(request, n, await guard(request, request.path_params["tx"]))


def choice_page(request: Request, n: Node, tx: Transaction) -> Response:
    client = n.registry.get(tx.request.client_id)
    loc = page_locale(request, n, tx)
    return page("choose.html", locale=loc, request_id=http.request_id(request),
                tx_id=tx.tx_id, csrf=tx.csrf, methods=methods_of(n, tx),
                client_name=client.name if client else "", step_up=bool(tx.step_up_from),
                personal_number=hinted_number(tx),
                user_message=user_message(tx, loc, client.name if client else ""),
                switch_url=f"/login/{tx.tx_id}?lang={'en' if loc == 'sv' else 'sv'}")


def hinted_number(tx: Transaction) -> str:
    """The personal number in the e-service's ``login_hint``, to pre-fill the PIN form."""
    with contextlib.suppress(InvalidPersonalNumber):
        return parse(tx.request.login_hint).digits if tx.request.login_hint else ""
    return ""


async def complete(request: Request, n: Node, tx: Transaction, identity: Identity, *,
                   pin: PinAttempt | None = None, user_signature: str = "",
                   context: str | None = None) -> Response:
    """Log the citizen in and answer the RP: one confirmed store step finishes the
    transaction (once) and writes the new session and the first code. At an e-service
    with organisation context a representative first chooses whom they act for
    (``context``: "self" or an organisation number; ``login.context`` asks)."""
    if loa.rank(identity.acr) < required_rank(n, tx):
        raise PageError("err_tx_expired", status=403)
    required_person = identity_required(tx)
    if required_person and identity.personal_number != required_person:
        # The e-service asked for one citizen (an essential claim with a value).
        raise PageError("err_wrong_person", status=403)
    if context is None:
        if needs_context(n, tx.request) and organisations(n, identity):
            return _ask_context(n, tx, identity, pin)
        context = "self" if needs_context(n, tx.request) else ""
    org = organisation(n, identity, context)
    secure = n.settings.cookie_secure
    old_cookie = http.get_cookie(request, http.SESSION_COOKIE, secure=secure)
    now = n.now()
    old = await n.store.sessions.get(old_cookie, now=now) if old_cookie else None
    carry = old if old and old.identity.personal_number == identity.personal_number else None
    cookie, session = n.store.logins.new_session(
        identity, now=now, carry=carry,
        device=devices.kind(request.headers.get("user-agent", "")))
    first = mint_code(n, tx.request, session, user_signature=user_signature, org=org)
    event = audit_event(request, n, tx, identity, "success", context=context, org=org)
    if not await n.store.logins.finish(
            tx.tx_id, open_for=tx.expires - now + n.settings.lifetimes.clock_skew,
            cookie=cookie, session=session, first=first, now=now, pin=pin, context=context,
            event=event):
        # Another request finished this login first (a double submit).
        raise PageError("err_tx_expired", status=410)
    response = redirect_with_code(n, tx.request, first.code)
    _forget(response, n, tx)
    if old is not None:
        # A step-up keeps the e-services of the old session; another person ends it.
        await end_session(n, old_cookie, response, notify=carry is None)
    http.set_cookie(response, http.SESSION_COOKIE, cookie, secure=secure)
    # This browser is now known for this citizen: a PIN lock others caused spares it.
    http.set_cookie(response, lockout.DEVICE_COOKIE, lockout.device_cookie(
        n.keys.current.subject_secret, identity.personal_number,
        http.get_cookie(request, lockout.DEVICE_COOKIE, secure=secure)),
        secure=secure, max_age=n.settings.lifetimes.known_browser)
    metrics.LOGINS.labels(identity.method, "success").inc()
    log.info("login", method=identity.method, outcome="success", acr=identity.acr,
             client_id=tx.request.client_id, pnr=identity.personal_number,
             step_up=bool(tx.step_up_from))
    return response


def audit_event(request: Request, n: Node, tx: Transaction, identity: Identity | None,
                outcome: str, *, method: str = "", reason: str = "", context: str = "",
                org: dict[str, str] | None = None, personal_number: str = "") -> AuditEvent:
    """The audit event of this login's end: who (a pseudonym), which e-service, how, on
    which node, under which support reference."""
    pnr = identity.personal_number if identity else personal_number
    kind = "signing" if tx.request.sign else "step_up" if tx.step_up_from else "login"
    detail: dict[str, str] = {}
    if reason:
        detail["reason"] = reason
    if identity is not None and identity.evidence:
        detail["evidence"] = identity.evidence
    if org:
        detail["organisation"] = org["number"]
    elif context:
        detail["context"] = context
    return AuditEvent(
        kind=kind, outcome=outcome, ts=time.time(),
        subject=pseudonym(n.keys.current.derived_key(PSEUDONYM_PURPOSE), pnr) if pnr else "",
        client_id=tx.request.client_id, method=identity.method if identity else method,
        acr=identity.acr if identity else "", node=n.settings.node_name,
        reference=http.request_id(request), detail=detail)


async def audit_failure(request: Request, n: Node, tx: Transaction, method: str,
                        reason: str, *, personal_number: str = "") -> None:
    """Record a login that failed (a wrong or locked PIN, a failed app login, a cancel): best
    effort, confirmed like every audit write; a store outage is logged, not shown."""
    try:
        await n.store.audit.record(audit_event(request, n, tx, None, "failure", method=method,
                                               reason=reason, personal_number=personal_number))
    except StoreUnavailable:
        log.error("audit_record_failed", method=method, reason=reason)


def needs_context(n: Node, req: AuthRequest) -> bool:
    """Whether a representative chooses whom they act for at this e-service: it accepts
    organisation context and asks for the organisation scope (never for a signing)."""
    client = n.registry.get(req.client_id)
    return bool(client and client.organisation_context and claims_mod.SCOPE_ORG in req.scope
                and not req.sign)


def organisations(n: Node, identity: Identity) -> list[Representation]:
    """The organisations the citizen may act for (the representation register)."""
    held = n.representations
    return held.for_person(identity.personal_number) if held is not None else []


def organisation(n: Node, identity: Identity, context: str) -> dict[str, str] | None:
    """The organisation of ``context`` if the citizen may (still) act for it."""
    if context in ("", "self"):
        return None
    for rep in organisations(n, identity):
        if rep.org_number == context:
            return {"number": rep.org_number, "name": rep.org_name}
    return None


def _ask_context(n: Node, tx: Transaction, identity: Identity,
                 pin: PinAttempt | None) -> Response:
    """Keep the proven identity in the transaction and send the citizen to choose."""
    waiting = dataclasses.replace(
        tx, proven=identity.to_json(),
        pin=json.dumps(dataclasses.asdict(pin)) if pin else "")
    response = RedirectResponse(f"/login/{tx.tx_id}/context", status_code=303)
    keep(response, n, waiting)
    return response


def required_rank(n: Node, tx: Transaction) -> int:
    """The level this login must reach (the request's and the e-service's)."""
    client = n.registry.get(tx.request.client_id)
    required = loa.required_rank(tx.request.acr_values, client.min_loa if client else loa.LOA3,
                                 n.settings.loa_levels)
    return required if required is not None else loa.rank(loa.LOA3)

"""Property-based tests: every parser of untrusted input either accepts or raises its
own typed error — never anything else, whatever it is fed."""

from __future__ import annotations

import base64
import contextlib
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from service.errors import AuthorizeError, PageError, TokenError
from service.oidc import clients, issued_tokens, keyring
from service.oidc.authorize_checks import SINGLE, validate
from service.oidc.client_auth import authenticate
from service.personnummer import InvalidPersonalNumber, parse
from service.providers.bankid_client import BankIDError, parse_collect, parse_order
from service.web import http

REG = clients.load(Path(__file__).resolve().parents[1] / "data" / "clients.toml")
text = st.text(max_size=300)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                           | st.text(max_size=50),
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=20), c,
                                                                               max_size=5),
                           max_leaves=20)
EXAMPLES = settings(max_examples=300, deadline=None)


@EXAMPLES
@given(st.dictionaries(st.sampled_from([*SINGLE, "x", ""]), text, max_size=12),
       st.sets(st.sampled_from(SINGLE), max_size=3))
def test_authorize_validation_only_raises_authorize_errors(params: dict[str, str],
                                                            repeated: set[str]) -> None:
    params.setdefault("client_id", "rp-basic")
    try:
        validate(params, repeated, REG)
    except AuthorizeError as exc:
        assert exc.error and all(0x20 <= ord(c) <= 0x7E for c in exc.description)
        if params.get("client_id") != "rp-basic" or "client_id" in repeated:
            assert not exc.may_redirect


@EXAMPLES
@given(st.text(max_size=200), st.dictionaries(st.sampled_from(
    ["client_id", "client_secret", "client_assertion", "client_assertion_type", "grant_type"]),
    text, max_size=5))
def test_client_authentication_only_raises_token_errors(authorization: str,
                                                        form: dict[str, str]) -> None:
    try:
        authenticate(REG, authorization=authorization, form=form, audiences={"https://idp.test"},
                     now=1_800_000_000, max_assertion_life=600, skew=30)
    except TokenError as exc:
        assert exc.error == "invalid_client" and exc.status == 401


@EXAMPLES
@given(st.binary(max_size=200))
def test_basic_credentials_of_any_bytes_are_refused_cleanly(raw: bytes) -> None:
    header = "Basic " + base64.b64encode(raw).decode()
    with contextlib.suppress(TokenError):
        authenticate(REG, authorization=header, form={}, audiences=set(), now=0,
                     max_assertion_life=600, skew=30)


@EXAMPLES
@given(st.text(max_size=400) | st.builds(lambda a, b, c: f"{a}.{b}.{c}", text, text, text))
def test_token_verification_only_raises_invalid_token(token: str) -> None:
    ring = _ring()
    for typ in (None, "JWT", "at+jwt"):
        with contextlib.suppress(issued_tokens.InvalidToken):
            issued_tokens.verify(ring, token, issuer="https://idp.test", typ=typ, now=1)
    with contextlib.suppress(issued_tokens.InvalidToken):
        issued_tokens.verify_id_token_hint(ring, token, issuer="https://idp.test", now=1)


_RING: list[keyring.KeyRing] = []


def _ring() -> keyring.KeyRing:
    if not _RING:
        import tempfile

        folder = Path(tempfile.mkdtemp())
        keyring.generate(folder)
        _RING.append(keyring.load(folder, publish_for=900))
    return _RING[0]


@EXAMPLES
@given(json_values)
def test_bankid_answers_of_any_shape_are_parsed_or_refused(data: Any) -> None:
    for parser in (parse_order, parse_collect):
        try:
            parser(data)
        except BankIDError as exc:
            assert exc.code == "badResponse"


@EXAMPLES
@given(st.dictionaries(st.sampled_from(["status", "hintCode", "completionData"]), json_values))
def test_bankid_collect_answers_are_parsed_or_refused(data: dict[str, Any]) -> None:
    with contextlib.suppress(BankIDError):
        parse_collect(data)


@EXAMPLES
@given(st.text(max_size=400))
def test_cookies_of_any_length_are_bounded(value: str) -> None:
    header = f"__Host-idp_session={value}".encode("utf-8", "surrogateescape")
    req = Request({"type": "http", "headers": [(b"cookie", header)]})
    got = http.get_cookie(req, http.SESSION_COOKIE, secure=True)
    assert len(got) <= 128


@EXAMPLES
@given(st.binary(max_size=500))
def test_query_strings_of_any_bytes_parse_or_give_a_page_error(raw: bytes) -> None:
    req = Request({"type": "http", "query_string": raw, "headers": [], "path": "/authorize",
                   "scheme": "https", "server": ("idp.test", 443)})
    try:
        params, _ = http.query(req)
        assert len(params) <= http.MAX_PARAMS
    except PageError as exc:
        assert exc.status == 400


@EXAMPLES
@given(st.text(max_size=30))
def test_personal_numbers_of_any_text_parse_or_are_invalid(raw: str) -> None:
    with contextlib.suppress(InvalidPersonalNumber):
        assert len(parse(raw).digits) == 12

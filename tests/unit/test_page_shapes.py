"""The login's pages filled in from a kept shape (``web.render.shaped_html``) are the
same, byte for byte, as the template rendered in full: in both languages, with values
that need escaping, with values left empty, and for a template that uses a value in a
way a marker cannot stand in for."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import ChoiceLoader, DictLoader
from markupsafe import Markup

from service.web import render

NASTY = 'Bygg & "lov" <script>alert(1)</script> \'x\''


def contexts() -> list[tuple[str, dict[str, Any]]]:
    base = {"tx_id": "T" * 43, "csrf": "c-_" * 14, "switch_url": "/login/T?lang=en"}
    out: list[tuple[str, dict[str, Any]]] = []
    for client in ("Mina sidor", NASTY):
        for methods in (["bankid", "pin", "smartcard"], ["bankid"], ["freja", "pin"]):
            for hint in ("", "199001011234"):
                out.append(("choose.html", {**base, "methods": methods, "client_name": client,
                                            "step_up": client == NASTY, "personal_number": hint,
                                            "user_message": Markup("<p>Hej &amp; v&auml;lkommen</p>")
                                            if hint else ""}))
    for device, finished in (("other", False), ("same", False), ("same", True)):
        out.append(("bankid.html", {**base, "user_message": "", "device": device,
                                    "finished": finished, "rfa": "RFA21",
                                    "message": NASTY, "qr_n": 1764547200,
                                    "autostart": "bankid:///?autostarttoken=a-b&redirect=null",
                                    "interval_ms": 2000}))
    out.append(("pin.html", {**base, "personal_number": "199001011234", "error": NASTY}))
    out.append(("pin.html", {**base, "personal_number": "", "error": ""}))
    return out


@pytest.mark.parametrize("locale", ["sv", "en"])
def test_a_filled_in_shape_is_the_page_rendered_in_full(locale: str) -> None:
    for template, context in contexts():
        full = render.html(template, locale=locale, request_id="req-1234abcd", **context)
        for _ in range(2):  # the first makes the shape, the second fills it in
            shaped = render.shaped_html(template, locale=locale, request_id="req-1234abcd",
                                        **dict(context))
            assert shaped == full, (template, context)
        # Another login's values in the same shape.
        other = {**context, "tx_id": "U" * 43, "csrf": "d" * 42}
        assert render.shaped_html(template, locale=locale, request_id="other-req1",
                                  **dict(other)) == \
            render.html(template, locale=locale, request_id="other-req1", **other)


def test_a_template_that_does_more_with_a_value_is_rendered_in_full(
        monkeypatch: pytest.MonkeyPatch) -> None:
    odd = {"odd.html": "{{ tx_id|upper }} {{ csrf[:3] }} {% if csrf == 'abc' %}same{% endif %}"
                       " {{ qr_n + 1 }}"}
    monkeypatch.setattr(render._ENV, "loader", ChoiceLoader([DictLoader(odd), render._ENV.loader]))
    monkeypatch.setattr(render, "SHAPED", render.SHAPED | {"odd.html"})
    for ctx in ({"tx_id": "abc", "csrf": "abc", "qr_n": 1}, {"tx_id": "x", "csrf": "xyz", "qr_n": 5}):
        assert render.shaped_html("odd.html", locale="sv", **dict(ctx)) == \
            render.html("odd.html", locale="sv", **ctx)


def test_a_page_with_records_in_it_is_not_kept_and_no_key_names_a_citizen() -> None:
    assert render._key("choose.html", "sv", {"methods": [{"a": 1}]}) is None
    kept = render._key("choose.html", "sv", {
        "tx_id": "secret-tx", "csrf": "secret-csrf", "personal_number": "199001011234",
        "error": "Fel: 19900101-123 är inget personnummer",
        "user_message": Markup("<p>Hej Anna Andersson</p>"), "client_name": "Mina sidor"})
    assert kept is not None and "Mina sidor" in repr(kept)
    assert not any(secret in repr(kept) for secret in ("secret", "1990", "Anna"))

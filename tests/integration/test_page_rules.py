"""The rules every login page keeps, checked on every page as a citizen gets it, in
both languages: the page's language and a title, one heading, text alternatives for
images, a label for every field, names for links and buttons, a status region where
the page changes by itself, a language switch on the login pages; and no JavaScript needed: no inline
script or event handler (the CSP forbids them), and every action a form or a link."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.conftest import World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
WITH_CARDS = {"smartcard__login_url": "https://127.0.0.1:9446", "trusted_proxies": "127.0.0.1"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_of: dict[int, str] = {}
        self.open: list[int] = []
        self.labels: set[str] = set()
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if any(k.startswith("on") for k in a):
            self.problems.append(f"inline event handler on <{tag}>")
        if tag == "script":
            self.in_script = True
            if not a.get("src"):
                self.problems.append("inline <script>")
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag in ("a", "button", "h1", "title", "label"):
            self.open.append(len(self.tags) - 1)
            self.text_of[len(self.tags) - 1] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False
        if self.open and self.tags[self.open[-1]][0] == tag:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        for i in self.open:
            self.text_of[i] += data

    def all(self, tag: str) -> list[tuple[int, dict[str, str]]]:
        return [(i, a) for i, (t, a) in enumerate(self.tags) if t == tag]


def check(html: str, locale: str, *, live: bool = False, switch: bool = True) -> None:
    p = Page()
    p.feed(html)
    assert not p.problems, p.problems
    assert p.all("html")[0][1].get("lang") == locale
    assert next(p.text_of[i].strip() for i, _ in p.all("title"))
    assert len(p.all("h1")) == 1 and p.text_of[p.all("h1")[0][0]].strip()
    assert p.all("main")
    for _, img in p.all("img"):
        assert img.get("alt"), img
    for _, field in p.all("input"):
        if field.get("type") != "hidden":
            assert field.get("id") in p.labels, field
    for i, _ in p.all("a") + p.all("button"):
        assert p.text_of[i].strip(), p.tags[i]
    for _, form in p.all("form"):
        assert form.get("action") and form.get("method") in ("post", "get")
    if switch:
        assert [a for _, a in p.all("a") if "lang" in a], "a link to the other language"
    if live:  # the page's script announces what happens in the app
        assert [a for _, a in p.tags if a.get("role") == "status" and a.get("aria-live")]


async def login(world: World, client_id: str = "rp-basic") -> tuple[str, str]:
    resp, _ = await citizen.start(world.browser, client_id)
    return citizen.login_url(resp), citizen.csrf_of(resp.text)


@pytest.mark.parametrize("world", [WITH_CARDS], indirect=True)
@pytest.mark.parametrize("locale", ["sv", "en"])
async def test_every_login_page_keeps_the_rules(world: World, locale: str) -> None:
    b = world.browser
    url, csrf = await login(world)
    q = f"?lang={locale}"
    check((await b.get(url + q)).text, locale)  # the method page
    check((await b.get(f"{url}/pin{q}")).text, locale)
    check((await b.get(f"{url}/smartcard{q}")).text, locale)
    for method in ("bankid", "freja"):
        for device in ("other", "same"):
            page = await b.post(f"{url}/{method}/start{q}", data={"csrf": csrf, "device": device})
            check(page.text, locale, live=True)
            assert 'type="submit"' in page.text  # check again / cancel without a script
    tx = url.rsplit("/", 1)[1]
    for card_error in ({}, {"X-Client-Cert": "garbage", "X-Client-Cert-Verify": "0"}):
        page = await b.get(f"/card/{tx}{q}", headers=card_error)
        assert page.status_code in (401, 403)
        check(page.text, locale, switch=False)


@pytest.mark.parametrize("locale", ["sv", "en"])
async def test_error_pages_keep_the_rules_and_name_a_support_reference(
        world: World, locale: str) -> None:
    page = await world.browser.get(f"/login/{'x' * 32}?lang={locale}")
    assert page.status_code in (403, 410)
    assert re.search(r"[0-9a-f]{8,}", page.text)
    check(page.text, locale, switch=False)


@pytest.mark.parametrize("locale", ["sv", "en"])
async def test_the_pin_activation_pages_keep_the_rules(world: World, locale: str) -> None:
    form = await world.browser.get(f"/pin/aktivera?lang={locale}")
    check(form.text, locale)
    wrong = await world.browser.post(f"/pin/aktivera?lang={locale}", data={
        "csrf": citizen.csrf_of(form.text), "personal_number": "19400101-1008",
        "code": "AAAA-BBBB-CCCC", "pin": "4826", "pin_repeat": "4826"})
    assert wrong.status_code == 401
    check(wrong.text, locale)

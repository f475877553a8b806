"""In a real browser (Debian's Chromium, headless, driven by Selenium through
chromedriver): a citizen who switches the login to English and then starts BankID gets
the BankID page in English, and the e-service's ``ui_locales`` holds the same way."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from ha import cluster as clustermod
from tests.helpers import citizen

pytestmark = [pytest.mark.ha, pytest.mark.skipif(
    not (shutil.which("chromium") and shutil.which("chromedriver")),
    reason="Debian's chromium and chromium-driver are not installed (./setup.sh)")]


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--lang=sv-SE",
                "--ignore-certificate-errors"):  # the cluster's own test CA
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "sv-SE,sv"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or ""),
                              options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def authorize_url(info: dict[str, Any], **extra: str) -> str:
    params, _ = citizen.authorize_params(
        "mina-sidor", redirect_uri=info["demos"]["mina-sidor"] + "/callback", **extra)
    return f"{info['issuer']}/authorize?{urlencode(params)}"


def lang(driver: Any) -> str:
    return str(driver.find_element("tag name", "html").get_attribute("lang"))


def arrives(driver: Any, want: str, h1: str = "") -> bool:
    """Wait for the page a click navigates to (a click returns before it has loaded):
    its language is ``want`` and its heading has ``h1``."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    def there(d: Any) -> bool:
        return lang(d) == want and h1 in d.find_element("tag name", "h1").text

    WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException,
                                                  NoSuchElementException)).until(there)
    return True


def test_a_citizen_who_switches_to_english_gets_bankid_in_english(
        cluster: clustermod.Cluster, chrome: Any) -> None:
    info = clustermod.describe(cluster)
    chrome.delete_all_cookies()
    chrome.get(authorize_url(info))
    assert lang(chrome) == "sv"
    chrome.find_element("css selector", "a.lang").click()  # "In English"
    assert arrives(chrome, "en", "Log in")
    chrome.find_element("xpath", "//button[contains(., 'another device')]").click()
    assert arrives(chrome, "en", "BankID")  # the BankID page, still in English


def test_ui_locales_gives_every_page_in_that_language(
        cluster: clustermod.Cluster, chrome: Any) -> None:
    info = clustermod.describe(cluster)
    chrome.delete_all_cookies()
    chrome.get(authorize_url(info, ui_locales="en"))
    assert lang(chrome) == "en"
    chrome.find_element("xpath", "//button[contains(., 'this device')]").click()
    assert arrives(chrome, "en", "BankID")

"""Which Locust user classes make up each scenario of ``idportal load`` (no Locust import
here: the command that starts Locust must not monkey-patch itself)."""

from __future__ import annotations

SCENARIOS: dict[str, list[str]] = {
    "peak": ["BankIDCitizen", "SSOCitizen", "PinCitizen", "StepUpCitizen", "FrejaCitizen",
             "AppRefresher", "LogoutCitizen"],
    "bankid": ["BankIDCitizen"], "freja": ["FrejaCitizen"], "sso": ["SSOCitizen"], "pin": ["PinCitizen"],
    "stepup": ["StepUpCitizen"], "refresh": ["AppRefresher"], "logout": ["LogoutCitizen"],
}

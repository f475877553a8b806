from __future__ import annotations

import json

import pytest
import structlog

from service.login import bankid_messages as m
from service.observability import mask_personal_numbers, redact
from service.oidc import claims
from service.records import Identity

ID = Identity("198112189876", "Anna", "Andersson", "bankid", "x", 1, "1981-12-18")


@pytest.mark.parametrize(("status", "hint", "qr", "code"), [
    ("pending", "noClient", False, "RFA1"),
    ("pending", "outstandingTransaction", False, "RFA13"),
    ("pending", "outstandingTransaction", True, "SCAN_QR"),
    ("pending", "userSign", True, "RFA9"),
    ("pending", "userMrtd", True, "RFA23"),
    ("pending", "", True, "RFA21"),
    ("pending", "somethingNew", True, "RFA21"),
    ("failed", "cancelled", True, "RFA3"),
    ("failed", "userCancel", True, "RFA6"),
    ("failed", "expiredTransaction", True, "RFA8"),
    ("failed", "certificateErr", True, "RFA16"),
    ("failed", "startFailed", True, "RFA17B"),
    ("failed", "startFailed", False, "RFA17A"),
    ("failed", "somethingNew", True, "RFA22"),
    ("pending", "userCallConfirm", False, "CALL_CONFIRM"),
    ("failed", "userDeclinedCall", False, "RFA6"),
    ("failed", "notSupportedByUserApp", True, "APP_UPDATE"),
    ("failed", "transactionRiskBlocked", False, "RISK_BLOCKED"),
])
def test_hint_codes_map_to_the_official_messages(status: str, hint: str, qr: bool, code: str) -> None:
    assert m.code_for(status, hint, qr=qr) == code


def test_every_message_is_in_swedish_and_english() -> None:
    for code, texts in m.RFA.items():
        assert texts["sv"].strip() and texts["en"].strip(), code


def test_errors_map_to_rfa4_and_rfa5() -> None:
    assert m.code_for_error("alreadyInProgress") == "RFA4"
    for e in ("internalError", "maintenance", "requestTimeout", "unreachable", "http502"):
        assert m.code_for_error(e) == "RFA5"


def test_every_message_exists_in_swedish_and_english() -> None:
    for texts in m.RFA.values():
        assert texts["sv"] and texts["en"] and texts["sv"] != texts["en"]


def test_claims_are_released_only_when_asked_and_allowed() -> None:
    asked = claims.requested(("openid", "profile"), {}, "id_token")
    out = claims.release(ID, asked, frozenset({"given_name", claims.PNR}))
    assert out == {"given_name": "Anna"}
    asked = claims.requested(("openid",), {"id_token": {claims.PNR: {"essential": True}}}, "id_token")
    assert claims.release(ID, asked, frozenset({claims.PNR})) == {claims.PNR: "198112189876"}


def test_coordination_number_is_never_sent_with_a_personal_number() -> None:
    ident = Identity("197010632391", "A", "B", "pin", "x", 1, coordination_number=True)
    out = claims.identity_claims(ident)
    assert claims.COORDINATION in out and claims.PNR not in out


def test_logs_drop_secrets_and_mask_personal_numbers() -> None:
    event = {"event": "x", "code": "abc", "pin": "1234", "client_secret": "s",
             "note": "user 198112189876 and 19811218-9876", "refresh_token": "r"}
    out = redact(None, "info", dict(event))
    assert out["code"] == out["pin"] == out["client_secret"] == out["refresh_token"] == "[redacted]"
    assert "9876" not in out["note"].replace("**76", "")
    assert mask_personal_numbers("198112189876") == "1981****-**76"


def test_log_lines_are_json_with_request_context() -> None:
    with structlog.testing.capture_logs() as logs:
        structlog.get_logger().info("login", method="pin", pnr="198112189876")
    assert logs[0]["event"] == "login"
    json.dumps(logs[0])


def test_records_round_trip_with_empty_required_fields() -> None:
    from service.records import CodeGrant

    g = CodeGrant(client_id="c", redirect_uri="r", code_challenge="x", scope=("openid",), nonce="",
                  sid="s", grant_id="g", identity=ID, acr="a")
    assert CodeGrant.from_json(g.to_json()) == g


def test_bankid_codes_become_metric_labels_from_a_fixed_set() -> None:
    assert m.metric_code("userCancel") == "userCancel"
    assert m.metric_code("transactionRiskBlocked") == "transactionRiskBlocked"
    assert m.metric_code("alreadyInProgress") == "alreadyInProgress"
    for odd in ("", "somethingNew", "x" * 500, "http503"):
        assert m.metric_code(odd) == "other"


def test_the_metrics_name_the_build_and_the_process() -> None:
    from prometheus_client import generate_latest

    from service import metrics

    text = generate_latest(metrics.REGISTRY).decode()
    assert 'idportal_build_info{commit="' in text and 'version="' in text
    assert "process_cpu_seconds_total" in text and "process_resident_memory_bytes" in text

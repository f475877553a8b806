"""The log pipeline as a node configures it: every line JSON, nothing secret in any of
them, also in tracebacks, nested values and the standard library's records. Run in a
child process, so the pipeline under test is the real one writing to a real stream."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from service.observability import mask_personal_numbers, redact, scrub

PNR = "198112189876"
PNR10 = "8112189876"
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def run_child(code: str) -> list[dict[str, object]]:
    prog = textwrap.dedent('''
        import logging
        import structlog
        from service.observability import configure_logging
        configure_logging(fmt="json", level="info")
        log = structlog.get_logger("test")
    ''') + textwrap.dedent(code)
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                         check=True, timeout=60)
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    assert out.stderr == "", out.stderr
    return [json.loads(ln) for ln in lines]


def test_a_traceback_is_scrubbed_after_it_is_formatted() -> None:
    (line,) = run_child(f'''
        try:
            raise ValueError("no citizen {PNR} (short {PNR10}) with pin=1234 hint {JWT}")
        except ValueError:
            log.exception("boom")
    ''')
    text = json.dumps(line)
    assert "ValueError" in str(line["exception"])
    for secret in (PNR, PNR10, "1234", JWT):
        assert secret not in text


def test_standard_library_records_go_through_the_same_json_pipeline() -> None:
    lines = run_child(f'''
        try:
            {{}}["x"]
        except KeyError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application %s",
                                                         "{PNR}")
        logging.getLogger("uvicorn.access").info('"GET /end_session?id_token_hint={JWT}'
                                                 '&login_hint={PNR} HTTP/1.1" 303')
    ''')
    assert [ln["logger"] for ln in lines] == ["uvicorn.error", "uvicorn.access"]
    assert all("timestamp" in ln and "level" in ln for ln in lines)
    text = json.dumps(lines)
    assert PNR not in text and JWT not in text and "KeyError" in text


def test_nested_values_and_secret_keys_are_redacted_at_any_depth() -> None:
    event = {"event": "x", "form": {"pin": "1234", "who": [PNR, {"code": "abc"}]},
             "url": f"/authorize?login_hint={PNR}&code=secretcode"}
    out = redact(None, "info", event)
    assert out["form"] == {"pin": "[redacted]", "who": ["1981****-**76", {"code": "[redacted]"}]}
    assert "secretcode" not in out["url"] and PNR not in out["url"]


def test_ten_digit_personal_numbers_are_masked_and_other_numbers_kept() -> None:
    assert PNR10 not in mask_personal_numbers(f"a {PNR10} b")
    assert "811218-****" not in mask_personal_numbers("811218-9876")
    assert "811218-9876" not in mask_personal_numbers("see 811218-9876.")
    # An epoch timestamp and a number with a wrong check digit are no personal numbers.
    assert mask_personal_numbers("1764512345") == "1764512345"
    assert mask_personal_numbers("8112189875") == "8112189875"


def test_scrub_removes_tokens_and_secret_parameters_from_any_text() -> None:
    text = scrub(f"POST /token code=AbC.def&code_verifier=xyz refresh_token=r.1 {JWT}")
    assert "AbC.def" not in text and "xyz" not in text and "r.1" not in text
    assert JWT not in text and "[jwt]" in text


def test_what_a_request_brings_is_scrubbed_even_in_the_common_fields() -> None:
    # Only values the node makes itself skip the scrubber; the method, the event text
    # and a client id come from outside.
    out = redact(None, "info", {"event": f"GET /x?pin=4711 {PNR}", "method": f"X{PNR}",
                                "client_id": f"rp {PNR10}", "route": "authorize",
                                "status": 200})
    assert PNR not in json.dumps(out) and PNR10 not in json.dumps(out) and "4711" not in out["event"]
    assert out["route"] == "authorize" and out["status"] == 200


def test_a_string_with_nothing_to_scrub_comes_back_as_it_was() -> None:
    for text in ["request", "rp-basic", "11:22:33", "12345", "a-b_c.d"]:
        assert scrub(text) is text


def test_a_line_is_stamped_with_the_utc_time_to_the_microsecond_as_iso_8601() -> None:
    from datetime import UTC, datetime
    from unittest import mock

    from service.observability import UtcStamp

    stamp = UtcStamp()
    for ns in (1_764_547_200_000_000_000,  # midnight: the microseconds are written too
               1_764_547_200_000_456_789, 1_764_547_259_999_999_999, 1_764_547_260_000_001_000):
        with mock.patch("service.observability.time.time_ns", return_value=ns):
            got = stamp(None, "info", {})["timestamp"]
        want = datetime.fromtimestamp(ns // 1000 / 1e6, UTC)
        assert got == want.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), (ns, got)
        assert datetime.fromisoformat(got) == want
    now = datetime.fromisoformat(UtcStamp()(None, "info", {})["timestamp"])
    assert abs((now - datetime.now(UTC)).total_seconds()) < 1

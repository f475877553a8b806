from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.personnummer import InvalidPersonalNumber, luhn_check_digit, parse
from service.testpeople import personal_number


@pytest.mark.parametrize("raw", ["198112189876", "198112180040", "19811218-9876", "8112189876"])
def test_reference_vectors_are_valid(raw: str) -> None:
    assert parse(raw, today=dt.date(2026, 11, 28)).digits in ("198112189876", "198112180040")


def test_check_digit_uses_final_mod_10() -> None:
    # Sum a multiple of 10 gives check digit 0, not 10 (a published validator gets this wrong).
    assert luhn_check_digit("811218004") == 0


def test_samordningsnummer_day_plus_60_is_valid_and_flagged() -> None:
    p = parse("197010632391")
    assert p.is_coordination_number
    assert p.birthdate == dt.date(1970, 10, 3)


@pytest.mark.parametrize("raw", ["198112189875", "19811318987", "199902301234", "abc", "",
                                 "1981121898760", "19811218_9876", "２０１２"])
def test_invalid_numbers_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidPersonalNumber):
        parse(raw)


def test_plus_separator_means_a_hundred_years_or_older() -> None:
    assert parse("811218+9876", today=dt.date(2026, 1, 1)).digits == "188112189876"


def test_future_birth_dates_are_rejected() -> None:
    with pytest.raises(InvalidPersonalNumber):
        parse("203001011234", today=dt.date(2026, 1, 1))


def test_masked_form_hides_date_and_serial() -> None:
    assert parse("198112189876").masked == "1981****-**76"


@given(st.text(max_size=40))
def test_parser_never_raises_anything_but_invalid(raw: str) -> None:
    with contextlib.suppress(InvalidPersonalNumber):
        parse(raw)


@given(st.integers(min_value=0, max_value=10**6))
def test_generated_test_citizens_are_valid(i: int) -> None:
    assert parse(personal_number(i)).digits == personal_number(i)

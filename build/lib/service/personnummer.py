"""Swedish personal identity numbers and coordination numbers (Skatteverket SKV 704).

Pure functions: validate first, before anything else touches the number.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_FORMAT = re.compile(r"^(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{3})(\d)$")


class InvalidPersonalNumber(ValueError):
    """The input is not a valid personal identity or coordination number."""


@dataclass(frozen=True, slots=True)
class PersonalNumber:
    """A validated number, stored as 12 digits ``CCYYMMDDNNNC``."""

    digits: str

    @property
    def is_coordination_number(self) -> bool:
        return int(self.digits[6:8]) > 60

    @property
    def birthdate(self) -> dt.date:
        day = int(self.digits[6:8])
        if day > 60:
            day -= 60
        return dt.date(int(self.digits[0:4]), int(self.digits[4:6]), day)

    @property
    def masked(self) -> str:
        """For logs: year of birth and the last two digits only."""
        return f"{self.digits[:4]}****-**{self.digits[10:]}"

    def __str__(self) -> str:
        return self.digits


def luhn_check_digit(nine: str) -> int:
    """Check digit over ``YYMMDDNNN`` with weights 2,1,2,…; note the final ``mod 10``."""
    total = 0
    for i, ch in enumerate(nine):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def parse(raw: str, *, today: dt.date | None = None) -> PersonalNumber:
    """Parse and validate ``(CC)YYMMDD[-+]NNNC``; 10-digit forms get their century from
    ``today`` and the separator (``+`` means 100 years or older)."""
    if not isinstance(raw, str) or len(raw) > 13:
        raise InvalidPersonalNumber("a personal number has 10 or 12 digits")
    text = raw.strip().replace(" ", "")
    match = _FORMAT.match(text)
    if match is None:
        raise InvalidPersonalNumber("a personal number is written YYYYMMDD-NNNN")
    century, yy, mm, dd, sep, serial, check = match.groups()
    if century is None:
        today = today or dt.date.today()
        year = (today.year // 100) * 100 + int(yy)
        if year > today.year:
            year -= 100
        if sep == "+":
            year -= 100
        century = f"{year // 100:02d}"
    digits = f"{century}{yy}{mm}{dd}{serial}{check}"
    if int(check) != luhn_check_digit(digits[2:11]):
        raise InvalidPersonalNumber("the check digit does not match")
    day = int(dd)
    if day > 60:
        day -= 60
    try:
        dt.date(int(digits[0:4]), int(mm), day)
    except ValueError as exc:
        raise InvalidPersonalNumber("the date of birth is not a real date") from exc
    if today is not None and dt.date(int(digits[0:4]), int(mm), day) > today:
        raise InvalidPersonalNumber("the date of birth is in the future")
    return PersonalNumber(digits)


def with_check_digit(eleven: str) -> str:
    """Complete ``CCYYMMDDNNN`` with its check digit (for generated test citizens)."""
    return eleven + str(luhn_check_digit(eleven[2:11]))

"""Swedish organisation numbers (Bolagsverket, Skatteverket SKV 709). Pure.

Ten digits ``NNNNNN-NNNN``: the third and fourth digits are at least 20 (which tells an
organisation number from a personal number) and the last is the Luhn check digit over
the first nine, as for personal numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.personnummer import luhn_check_digit

_FORMAT = re.compile(r"^(\d{6})-?(\d{4})$")


class InvalidOrgNumber(ValueError):
    """The input is not a valid organisation number."""


@dataclass(frozen=True, slots=True)
class OrgNumber:
    digits: str  # ten digits

    def __str__(self) -> str:
        return f"{self.digits[:6]}-{self.digits[6:]}"


def parse(raw: str) -> OrgNumber:
    text = raw.strip().replace(" ", "") if isinstance(raw, str) else ""
    match = _FORMAT.match(text)
    if match is None:
        raise InvalidOrgNumber("an organisation number is written NNNNNN-NNNN")
    digits = match.group(1) + match.group(2)
    if int(digits[2:4]) < 20:
        raise InvalidOrgNumber("the third and fourth digits of an organisation number are "
                               "at least 20")
    if int(digits[9]) != luhn_check_digit(digits[:9]):
        raise InvalidOrgNumber("the check digit does not match")
    return OrgNumber(digits)

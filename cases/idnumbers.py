"""Resident ID numbers (公民身份号码) under GB 11643-1999, in one place.

An ID number has 18 characters: a 6-digit address code (the county of first
registration), an 8-digit birth date YYYYMMDD, a 3-digit sequence code whose
last digit is odd for men and even for women, and a check digit (0-9 or X)
computed with ISO 7064 MOD 11-2.

Store and compare the normalised form (`normalize_resident_id`); use
`validate_resident_id` as a form or model field validator.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "CHECK_CHARS",
    "WEIGHTS",
    "birth_date",
    "check_digit",
    "normalize_resident_id",
    "sex",
    "validate_resident_id",
    "validate_resident_id_field",
]

# GB 11643-1999 §8.2: weight of position i is 2**(17 - i) mod 11; the check
# character is CHECK_CHARS[weighted sum mod 11].
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH_YEAR = 1900

_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
# People type IDs with a Chinese input method on: accept full-width digits and x.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９ｘＸx", "0123456789XXX")


def check_digit(first17: str) -> str:
    """Return the check character for 17 digits (GB 11643-1999, ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_digit() needs exactly 17 ASCII digits.")
    total = sum(int(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize_resident_id(value: str) -> str:
    """Strip spaces, turn full-width digits into ASCII and a lower-case x into X."""
    return str(value).strip().translate(_FULL_WIDTH)


def validate_resident_id(value: str, *, today: date | None = None) -> str:
    """Check an ID number against GB 11643-1999 and return its normalised form.

    Checks, in this order: 17 digits plus a check character, a real birth date
    between 1900 and today, and the check digit. Raises ValidationError with
    a code: ``invalid_format``, ``invalid_birth_date``, ``birth_date_too_early``,
    ``birth_date_in_future`` or ``invalid_check_digit``.
    """
    number = normalize_resident_id(value)
    if not _SHAPE.fullmatch(number):
        raise ValidationError(
            _("The ID number must be 18 characters: 17 digits and a check digit (0-9 or X)."),
            code="invalid_format",
        )
    _validate_birth_date(number, today=today or timezone.localdate())
    expected = check_digit(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("The check digit of this ID number is wrong: it should end in %(expected)s."),
            code="invalid_check_digit",
            params={"expected": expected},
        )
    return number


def _validate_birth_date(number: str, *, today: date) -> None:
    """Check that characters 7-14 are a real date from 1900 up to today."""
    digits = number[6:14]
    try:
        born = _parse_birth_date(digits)
    except ValueError:
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) is not a real date."),
            code="invalid_birth_date",
            params={"date": f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"},
        ) from None
    if born.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) is before 1900."),
            code="birth_date_too_early",
            params={"date": born.isoformat()},
        )
    if born > today:
        raise ValidationError(
            _("The birth date in this ID number is in the future."),
            code="birth_date_in_future",
        )


def _parse_birth_date(digits: str) -> date:
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def birth_date(value: str) -> date:
    """Return the birth date held in characters 7-14 (GB 11643-1999 §7.3).

    Raises ValueError if the value is not 18 characters or the date is not real.
    """
    number = normalize_resident_id(value)
    if len(number) != 18:
        raise ValueError("A resident ID number has 18 characters.")
    return _parse_birth_date(number[6:14])


def sex(value: str) -> str:
    """Return "M" or "F": the 17th digit is odd for men, even for women (GB 11643-1999 §7.4)."""
    number = normalize_resident_id(value)
    if len(number) != 18 or number[16] not in "0123456789":
        raise ValueError("A resident ID number has 18 characters, the 17th a digit.")
    return "M" if int(number[16]) % 2 else "F"


# Model and form fields call validators with the value alone and ignore the
# return value; this name says so at the call site.
validate_resident_id_field = validate_resident_id

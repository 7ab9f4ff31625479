"""Checks of citizen ID numbers and phone numbers.

Error messages never contain the value: they end up in API bodies, form pages and logs.
"""

import datetime
import functools
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric

from members.choices import Sex

_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}\d{7,8}$")


def normalize_citizen_id(value: str) -> str:
    """Upper-case, without spaces or hyphens: the form that is hashed and encrypted."""
    return re.sub(r"[\s-]", "", str(value or "")).upper()


def validate_citizen_id(value: str) -> str:
    """Validate an 18-character citizen ID number (GB 11643) and return its normal form.

    Checks, in this order: length and characters, check digit, birth date (a real day, not in the
    future, not before 1900), and region code (known, and in use in the birth year).
    """
    number = normalize_citizen_id(value)
    if len(number) != 18 or not _ID_RE.match(number):
        raise ValidationError(
            _("A citizen ID number has 18 characters: 17 digits and a digit or X."), code="invalid_format"
        )
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError(
            _("The check digit of this citizen ID number is wrong; please check the number."), code="invalid_checksum"
        )
    try:
        birth = ric.get_birth_date(number)
    except stdnum_exceptions.ValidationError:
        birth = None
    if birth is None or birth.year < 1900 or birth > timezone.localdate():
        raise ValidationError(
            _("The birth date inside this citizen ID number is not a possible date."), code="invalid_birth_date"
        )
    if not _region_known(number[:6], number[6:10]):
        raise ValidationError(_("The region code of this citizen ID number is unknown."), code="invalid_region")
    return number


@functools.lru_cache(maxsize=65536)
def _region_known(region: str, birth_year: str) -> bool:
    """stdnum's region lookup scans its table (~80 µs); imports repeat few (region, year) pairs, so cache it."""
    try:
        ric.get_birth_place(f"{region}{birth_year}0101000" + "0")
    except stdnum_exceptions.ValidationError:
        return False
    return True


def citizen_id_birth_date(number: str) -> datetime.date:
    """Birth date encoded in a valid number (characters 7–14)."""
    return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def citizen_id_sex(number: str) -> str:
    """Sex encoded in a valid number: the 17th digit is odd for men, even for women."""
    return Sex.MALE if int(number[16]) % 2 else Sex.FEMALE


def normalize_phone(value: str) -> str:
    """Digits only; a leading +86 or 0086 is dropped."""
    digits = re.sub(r"[\s()+-]", "", str(value or ""))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            digits = digits[len(prefix) :]
    return digits


def validate_phone(value: str) -> str:
    """A mainland mobile number (11 digits from 13…–19…) or a landline with its area code."""
    number = normalize_phone(value)
    if not (_MOBILE_RE.match(number) or _LANDLINE_RE.match(number)):
        raise ValidationError(
            _("Enter an 11-digit mobile number, or a landline number with its area code."), code="invalid_phone"
        )
    return number

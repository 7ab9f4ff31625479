import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from stdnum.cn import ric

from members.crypto import mask_citizen_id, mask_phone
from members.pinyin import name_keys, normalize_query
from members.validators import (
    citizen_id_birth_date,
    citizen_id_sex,
    normalize_phone,
    validate_citizen_id,
    validate_phone,
)
from tests.members.factories import make_citizen_id, with_wrong_check_digit


def _with_check_digit(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def _error_code(value) -> str:
    with pytest.raises(ValidationError) as info:
        validate_citizen_id(value)
    if value.strip():
        assert value.strip() not in " ".join(info.value.messages)
    return info.value.code


def test_validate_citizen_id_accepts_valid_and_normalises():
    number = _with_check_digit("42010619900101001")
    assert number.endswith("X")
    assert validate_citizen_id(" " + number.lower() + " ") == number
    assert validate_citizen_id("4201 0619 9001 0100 1x") == number


def test_validate_citizen_id_rejects_wrong_check_digit():
    assert _error_code(with_wrong_check_digit(make_citizen_id(3))) == "invalid_checksum"


@pytest.mark.parametrize("date_part", ["19901332", "19900230", "00000101"])
def test_validate_citizen_id_rejects_impossible_birth_date(date_part):
    assert _error_code(_with_check_digit(f"110101{date_part}001")) == "invalid_birth_date"


def test_validate_citizen_id_rejects_future_birth_date():
    next_year = timezone.localdate().year + 1
    assert _error_code(_with_check_digit(f"110101{next_year}0101001")) == "invalid_birth_date"


def test_validate_citizen_id_rejects_unknown_region():
    assert _error_code(_with_check_digit("99999919900101001")) == "invalid_region"


@pytest.mark.parametrize("value", ["", "11010119900101001", "1101011990010100151", "11010119900101001A", "abc"])
def test_validate_citizen_id_rejects_wrong_shape(value):
    assert _error_code(value) == "invalid_format"


def test_citizen_id_birth_date_and_sex_read_from_number():
    male = make_citizen_id(0, birth=datetime.date(1988, 5, 17), male=True)
    female = make_citizen_id(1, birth=datetime.date(1988, 5, 17), male=False)
    assert citizen_id_birth_date(male) == datetime.date(1988, 5, 17)
    assert citizen_id_sex(male) == "male"
    assert citizen_id_sex(female) == "female"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"), ("010-62345678", "01062345678")],
)
def test_validate_phone_normalises(raw, expected):
    assert normalize_phone(raw) == expected
    assert validate_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "23812345678", "1381234567x", "138123456789"])
def test_validate_phone_rejects_bad_numbers(raw):
    with pytest.raises(ValidationError) as info:
        validate_phone(raw)
    assert raw not in " ".join(info.value.messages)


def test_masks_keep_only_region_and_last_four():
    assert mask_citizen_id("110101199001011234") == "110101********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("01062345678") == "010****5678"
    assert mask_phone("") == ""


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("张三", "zhangsan", "zs"),
        ("单雄信", "shanxiongxin", "sxx"),  # surname 单 reads Shàn
        ("曾国藩", "zengguofan", "zgf"),
        ("尉迟恭", "yuchigong", "ycg"),
        ("Li Na", "lina", "ln"),
        ("阿依古丽·买买提", "ayigulimaimaiti", "aygl" + "mmt"),
    ],
)
def test_name_keys_give_pinyin_and_initials(name, full, initials):
    assert name_keys(name) == (full, initials)


def test_normalize_query_keeps_letters_and_digits():
    assert normalize_query(" Zhang San ") == "zhangsan"

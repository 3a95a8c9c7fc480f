"""Resident ID numbers under GB 11643-1999 (cases/idnumbers.py). No database needed."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import models
from django.db.migrations.writer import MigrationWriter

from cases.idnumbers import (
    birth_date,
    check_digit,
    sex,
    validate_resident_id,
    validate_resident_id_field,
)

TODAY = date(2025, 6, 1)


def make_id(region: str = "320102", born: str = "19850615", sequence: str = "123") -> str:
    """Build an ID number with the right check digit."""
    first17 = region + born + sequence
    return first17 + check_digit(first17)


def refusal(value: str, today: date = TODAY) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_resident_id(value, today=today)
    return caught.value


def test_check_digit_matches_the_example_in_the_standard():
    # GB 11643-1999 gives 11010519491231002X as its worked example.
    assert check_digit("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("first17", "expected"),
    [("34052419800101001", "X"), ("11010119900307123", "3"), ("44030119991231001", "6")],
)
def test_check_digit_follows_iso_7064_mod_11_2(first17, expected):
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    assert "10X98765432"[total % 11] == expected
    assert check_digit(first17) == expected


@pytest.mark.parametrize("bad", ["1234567890123456", "123456789012345678", "1101051949123100X"])
def test_check_digit_needs_seventeen_digits(bad):
    with pytest.raises(ValueError):
        check_digit(bad)


def test_valid_numbers_are_returned_unchanged():
    for number in ("11010519491231002X", make_id(), make_id("610102", "20000229", "002")):
        assert validate_resident_id(number, today=TODAY) == number


def test_lower_case_x_is_accepted_and_upper_cased():
    # given a valid number ending in X, typed in lower case with spaces around it
    typed = "  11010519491231002x "
    # when / then
    assert validate_resident_id(typed, today=TODAY) == "11010519491231002X"


def test_full_width_digits_are_turned_into_ascii():
    # given what a Chinese input method produces
    typed = "１１０１０５１９４９１２３１００２Ｘ"
    # when / then
    assert validate_resident_id(typed, today=TODAY) == "11010519491231002X"


def test_wrong_check_digit_is_refused_naming_the_expected_one():
    # given a valid number with its last digit changed
    good = make_id()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    # when
    error = refusal(wrong)
    # then
    assert error.code == "invalid_check_digit"
    assert error.params == {"expected": good[17]}
    assert good[17] in error.messages[0]


@pytest.mark.parametrize(
    "value",
    ["", "1101051949123100", "11010519491231002", "11010519491231002XX", "1101051949123100XX",
     "X10105194912310021", "11010519491231A02X", "11010519491231002Y", "110105 19491231002X"],
)
def test_wrong_length_or_characters_are_refused(value):
    assert refusal(value).code == "invalid_format"


@pytest.mark.parametrize("born", ["19900231", "19900431", "19001329", "20230229", "19850000"])
def test_unreal_birth_dates_are_refused(born):
    # given 31 February and friends, with a correct check digit
    error = refusal(make_id(born=born))
    # then
    assert error.code == "invalid_birth_date"
    assert error.params == {"date": f"{born[:4]}-{born[4:6]}-{born[6:]}"}


def test_birth_date_in_the_future_is_refused():
    assert refusal(make_id(born="20250602")).code == "birth_date_in_future"


def test_birth_date_today_is_accepted():
    assert validate_resident_id(make_id(born="20250601"), today=TODAY)


def test_future_is_measured_from_the_real_date_by_default():
    with pytest.raises(ValidationError) as caught:
        validate_resident_id(make_id(born="29990101"))
    assert caught.value.code == "birth_date_in_future"


def test_birth_date_before_1900_is_refused():
    error = refusal(make_id(born="18991231"))
    assert error.code == "birth_date_too_early"
    assert validate_resident_id(make_id(born="19000101"), today=TODAY)


def test_birth_date_and_sex_are_read_from_the_number():
    number = make_id(born="19491231", sequence="002")
    assert birth_date(number) == date(1949, 12, 31)
    assert sex(number) == "F"
    assert sex(make_id(sequence="123")) == "M"
    assert birth_date("11010519491231002x") == date(1949, 12, 31)


def test_birth_date_and_sex_refuse_a_short_value():
    with pytest.raises(ValueError):
        birth_date("110105194912")
    with pytest.raises(ValueError):
        sex("110105194912")


def test_validator_works_on_a_model_field_and_in_migrations():
    # given a field as a model would declare it
    field = models.CharField(max_length=18, validators=[validate_resident_id_field])
    # when / then: a good value passes, a bad one raises with its code
    field.run_validators(make_id())
    with pytest.raises(ValidationError) as caught:
        field.run_validators(make_id()[:17] + "Y")
    assert caught.value.error_list[0].code == "invalid_format"
    # and makemigrations can write it down
    source, imports = MigrationWriter.serialize(field)
    assert "cases.idnumbers.validate_resident_id" in source
    assert "import cases.idnumbers" in imports

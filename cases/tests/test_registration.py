"""Registering petitions (cases/services/registration.py) on PostgreSQL."""

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases.choices import Channel, ClockKind, ClockStatus, EventKind, IdType, Purpose
from cases.deadlines.clocks import OFFICE_TZ
from cases.idnumbers import check_digit
from cases.models import Case, CaseEvent, CaseNumberSequence, CasePetitioner, Deadline, Petitioner
from cases.services.registration import (
    QUERY_CODE_ALPHABET,
    CaseIntake,
    PetitionerInput,
    case_register,
    petitioner_find_or_create,
)
from cases.tests.factories import CategoryFactory, valid_resident_id

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

RECEIVED = datetime(2025, 11, 3, 9, 30, tzinfo=OFFICE_TZ)  # a Monday
ZHANG_ID = "34112219800101001" + check_digit("34112219800101001")


@pytest.fixture
def office(unit):
    return unit("341122-D00")


@pytest.fixture
def intake(unit):
    """A one-person visit about a township matter."""
    return CaseIntake(
        channel=Channel.VISIT, received_at=RECEIVED,
        petitioners=[PetitionerInput(name="张三", id_number=ZHANG_ID, phone="13912345678",
                                     address="城关镇东关社区", is_main=True)],
        purpose=Purpose.REMEDY, category=CategoryFactory(), summary="土地补偿款未发放",
        demands="请求发放补偿款", place_unit=unit("341122100001"))


def group_of(size: int, *, representatives: int) -> list[PetitionerInput]:
    return [PetitionerInput(name=f"村民{i}", id_number=valid_resident_id(500 + i),
                            address="城关镇", is_main=i == 0,
                            is_representative=i < representatives)
            for i in range(size)]


def test_clerk_registers_a_numbered_case_with_its_clocks(clerk, office, intake):
    # when
    case = case_register(actor=clerk, office=office, intake=intake)
    # then the number is the county's, the year's and the first of the sequence
    assert case.number == "341122-2025-000001"
    assert re.fullmatch(f"[{QUERY_CODE_ALPHABET}]{{8}}", case.query_code)
    assert case.status == "registered" and case.registered_unit == office
    # and the main petitioner is linked
    party = CasePetitioner.objects.get(case=case)
    assert party.is_main and party.petitioner.id_number == ZHANG_ID
    # and the office's routing clock runs 15 days from receipt (R22 Art.22); the unit's
    # acceptance notice waits for the routing (Art.23: from the unit's receipt)
    clocks = {d.kind: d for d in Deadline.objects.filter(case=case)}
    assert set(clocks) == {ClockKind.ROUTING}
    assert all(d.status == ClockStatus.OPEN for d in clocks.values())
    assert clocks[ClockKind.ROUTING].starts_on == date(2025, 11, 3)
    assert clocks[ClockKind.ROUTING].due_on == date(2025, 11, 18)
    # and one REGISTERED event names the clerk
    registered = CaseEvent.objects.get(case=case, kind=EventKind.REGISTERED)
    assert registered.actor == clerk and registered.details["number"] == case.number


def test_numbers_follow_on_per_county_and_year(clerk, office, intake):
    first = case_register(actor=clerk, office=office, intake=intake)
    second = case_register(actor=clerk, office=office, intake=intake)
    next_year = case_register(actor=clerk, office=office,
                              intake=replace(intake, received_at=datetime(2026, 1, 5, 9, 0,
                                                                          tzinfo=OFFICE_TZ)))
    assert [first.number, second.number, next_year.number] == [
        "341122-2025-000001", "341122-2025-000002", "341122-2026-000001"]
    assert CaseNumberSequence.objects.get(year=2025).last == 2


def test_the_year_is_the_year_in_shanghai(clerk, office, intake):
    # given 2025-12-31 17:30 UTC, which is 01:30 on 1 January 2026 in Shanghai
    received = datetime(2025, 12, 31, 17, 30, tzinfo=UTC)
    # when
    case = case_register(actor=clerk, office=office, intake=replace(intake, received_at=received))
    # then
    assert case.number.startswith("341122-2026-")


def test_a_letter_keeps_its_postal_reference(clerk, office, intake):
    letter = replace(intake, channel=Channel.LETTER, postal_reference=" XA123456789CN ")
    case = case_register(actor=clerk, office=office, intake=letter)
    assert Case.objects.get(pk=case.pk).postal_reference == "XA123456789CN"


@pytest.mark.parametrize("username", ["handler", "head", "leader", "supervisor", "grid", "admin"])
def test_only_a_clerk_registers(demo_users, office, intake, username):
    with pytest.raises(PermissionDenied):
        case_register(actor=demo_users[username], office=office, intake=intake)
    assert not Case.objects.exists()


def test_a_clerk_registers_only_at_their_own_office(clerk, unit, intake):
    with pytest.raises(PermissionDenied):
        case_register(actor=clerk, office=unit("341122100"), intake=intake)


@pytest.mark.parametrize("mains", [0, 2])
def test_exactly_one_main_petitioner(clerk, office, intake, mains):
    people = [PetitionerInput(name=f"人{i}", address="城关镇", is_main=i < mains) for i in range(2)]
    with pytest.raises(ValidationError) as caught:
        case_register(actor=clerk, office=office,
                      intake=replace(intake, petitioners=people, headcount=2))
    assert caught.value.code == "main_petitioner"


def test_a_group_sends_at_most_five_representatives(clerk, office, intake):
    # given a group visit of 40 with six representatives entered (R22 Art.20)
    group = replace(intake, headcount=40, petitioners=group_of(6, representatives=6))
    # when / then
    with pytest.raises(ValidationError) as caught:
        case_register(actor=clerk, office=office, intake=group)
    assert caught.value.code == "too_many_representatives"
    assert "at most 5 representatives" in caught.value.messages[0]
    assert "6 were entered" in caught.value.messages[0]
    assert not Case.objects.exists() and not Petitioner.objects.exists()


def test_five_representatives_of_a_larger_group_are_registered(clerk, office, intake):
    group = replace(intake, headcount=40, petitioners=group_of(7, representatives=5))
    case = case_register(actor=clerk, office=office, intake=group)
    assert case.is_group and case.headcount == 40
    assert case.parties.filter(is_representative=True).count() == 5
    assert case.parties.count() == 7


def test_headcount_covers_the_petitioners_entered(clerk, office, intake):
    with pytest.raises(ValidationError) as caught:
        case_register(actor=clerk, office=office,
                      intake=replace(intake, headcount=2, petitioners=group_of(3, representatives=0)))
    assert caught.value.code == "headcount"


def test_a_wrong_check_digit_is_refused_with_the_validators_message(clerk, office, intake):
    # given an ID number whose last character is not its check digit
    wrong = ZHANG_ID[:17] + ("0" if ZHANG_ID[17] != "0" else "1")
    person = PetitionerInput(name="张三", id_number=wrong, address="城关镇东关社区", is_main=True)
    # when / then
    with pytest.raises(ValidationError) as caught:
        case_register(actor=clerk, office=office, intake=replace(intake, petitioners=[person]))
    assert caught.value.code == "invalid_check_digit"
    assert f"should end in {ZHANG_ID[17]}" in caught.value.messages[0]
    # and nothing was written, not even a case number
    assert not Case.objects.exists()
    assert not CaseNumberSequence.objects.exists()
    assert not CaseEvent.objects.exists()


def test_the_same_person_is_found_again_by_id_number(clerk, office, intake):
    # given a first visit
    first = case_register(actor=clerk, office=office, intake=intake)
    # when the same person writes later with a new phone and a full-width ID number
    again = PetitionerInput(name="张三", id_number=ZHANG_ID.translate(
        str.maketrans("0123456789", "０１２３４５６７８９")), phone="13800000000",
        address="城关镇东关社区", is_main=True)
    second = case_register(actor=clerk, office=office,
                           intake=replace(intake, channel=Channel.LETTER, petitioners=[again]))
    # then both cases point at one row, which keeps the phone recorded first
    assert Petitioner.objects.count() == 1
    person = Petitioner.objects.get()
    assert set(person.cases.all()) == {first, second}
    assert person.phone == "13912345678"


def test_without_an_id_the_person_is_found_by_phone_and_name(clerk, office, intake):
    # given a caller who gave no ID number
    caller = PetitionerInput(name="李四", id_type=IdType.NONE, phone="13711112222", address="城关镇东关社区", is_main=True)
    case_register(actor=clerk, office=office, intake=replace(intake, petitioners=[caller]))
    # when they come back and show their ID card
    number = valid_resident_id(77)
    visit = PetitionerInput(name="李四", id_number=number, phone="13711112222", address="城关镇东关社区", is_main=True)
    case_register(actor=clerk, office=office, intake=replace(intake, petitioners=[visit]))
    # then it is still one person, now with the ID number on file
    person = Petitioner.objects.get()
    assert (person.id_type, person.id_number) == (IdType.RESIDENT_ID, number)


def test_same_phone_with_another_name_is_another_person(db):
    first = petitioner_find_or_create(name="王五", id_type=IdType.NONE, phone="13600000000")
    other = petitioner_find_or_create(name="王六", id_type=IdType.NONE, phone="13600000000")
    assert first.pk != other.pk


def test_an_anonymous_petitioner_is_a_new_row_each_time(db):
    one = petitioner_find_or_create(name="", id_type=IdType.NONE, is_anonymous=True)
    two = petitioner_find_or_create(name="", id_type=IdType.NONE, is_anonymous=True)
    assert one.pk != two.pk


def test_the_same_person_entered_twice_is_refused(clerk, office, intake):
    twice = [PetitionerInput(name="张三", id_number=ZHANG_ID, address="城关镇东关社区", is_main=True),
             PetitionerInput(name="张三", id_number=ZHANG_ID)]
    with pytest.raises(ValidationError) as caught:
        case_register(actor=clerk, office=office,
                      intake=replace(intake, headcount=2, petitioners=twice))
    assert caught.value.code == "duplicate_petitioner"


def test_a_petition_is_not_received_in_the_future(clerk, office, intake):
    from django.utils import timezone

    tomorrow = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError):
        case_register(actor=clerk, office=office, intake=replace(intake, received_at=tomorrow))


def test_a_petition_received_before_the_calendar_data_is_refused(clerk, office, intake):
    long_ago = datetime(1999, 3, 1, 9, tzinfo=OFFICE_TZ)
    with pytest.raises(ValidationError) as refused:
        case_register(actor=clerk, office=office, intake=replace(intake, received_at=long_ago))
    assert refused.value.code == "received_too_early"

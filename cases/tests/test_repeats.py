"""Repeat detection while registering (issue 7): the selector, the htmx partial, the check.

Real PostgreSQL. pg_trgm is created by the ``trigrams`` fixture inside each test's
transaction, as no migration creates it yet.
"""

from datetime import datetime

import pytest
from django.core.checks import run_checks
from django.core.checks.registry import registry
from django.db import connection
from django.urls import reverse

from accounts.models import User
from cases.checks import check_database_ctype, ctype_errors, database_ctype
from cases.choices import CaseStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.selectors.repeats import RepeatReason, repeat_candidates
from cases.tests.factories import (
    CaseFactory,
    CasePetitionerFactory,
    PetitionerFactory,
    valid_resident_id,
)

pytestmark = pytest.mark.django_db
ZHANG_ID = valid_resident_id(901)
LAND = "反映土地补偿问题"
LAND_AGAIN = "反映土地补偿款问题"


@pytest.fixture
def trigrams(db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


@pytest.fixture
def places(unit):
    """Two villages of 城关镇 and one of 河口镇."""
    return {"dongguan": unit("341122100001"), "xiguan": unit("341122100002"),
            "hekou": unit("341122101001")}


def case_of(person=None, **fields):
    case = CaseFactory(summary=fields.pop("summary", "小区物业乱收费"), **fields)
    if person is not None:
        CasePetitionerFactory(case=case, petitioner=person)
    return case


def numbers(candidates):
    return [candidate.case.number for candidate in candidates]


def fresh(user: User) -> User:
    """The same user without cached roles, so each call pays the same queries."""
    return User.objects.get(pk=user.pk)


# --- The same person ------------------------------------------------------------------

def test_the_same_person_is_found_by_id_number(clerk):
    # given an earlier case of 张三 and one of someone else
    earlier = case_of(PetitionerFactory(name="张三", id_number=ZHANG_ID))
    case_of(PetitionerFactory())
    # when the clerk types his ID number (with a lower-case x or full-width digits too)
    found = repeat_candidates(user=clerk, id_numbers=[ZHANG_ID, ""])
    # then
    assert numbers(found) == [earlier.number]
    assert found[0].reason == RepeatReason.PERSON and found[0].similarity is None


def test_the_same_person_is_found_by_phone(clerk):
    earlier = case_of(PetitionerFactory(phone="13955501234", id_number=""))
    also = case_of(PetitionerFactory(phone="", phone_alt="13955501234", id_number=""))
    found = repeat_candidates(user=clerk, phones=["13955501234", "139"])
    assert set(numbers(found)) == {earlier.number, also.number}
    assert repeat_candidates(user=clerk, phones=["1395550"]) == []  # exact numbers only


def test_the_same_person_is_found_by_name_and_address(clerk):
    earlier = case_of(PetitionerFactory(name="王五", id_number="", phone="",
                                        address="城关镇东关社区3组"))
    case_of(PetitionerFactory(name="王五", id_number="", phone="", address="河口镇杨庄村"))
    found = repeat_candidates(user=clerk, name_address_pairs=[("王五 ", "城关镇东关社区3组")])
    assert numbers(found) == [earlier.number]
    # a name alone, or an address alone, finds nobody
    assert repeat_candidates(user=clerk, name_address_pairs=[("王五", "")]) == []


def test_the_newest_earlier_case_comes_first_and_each_case_once(clerk):
    person = PetitionerFactory(phone="13955500000")
    old = case_of(person, received_at=datetime(2025, 3, 1, 9, tzinfo=OFFICE_TZ))
    new = case_of(person, received_at=datetime(2026, 3, 1, 9, tzinfo=OFFICE_TZ))
    found = repeat_candidates(user=clerk, id_numbers=[person.id_number], phones=[person.phone])
    assert numbers(found) == [new.number, old.number]


# --- Similar text in the same place ---------------------------------------------------

def test_similar_text_in_the_same_township_is_found_and_other_text_is_not(clerk, places,
                                                                          trigrams):
    # given a similar case in another village of the same township, an unrelated one
    # in the same village, and the same text in another township
    similar = case_of(summary=LAND, place_unit=places["xiguan"])
    case_of(summary="小区物业乱收费", place_unit=places["dongguan"])
    elsewhere = case_of(summary=LAND, place_unit=places["hekou"])
    # when the clerk types similar facts for 东关社区
    found = repeat_candidates(user=clerk, summary=LAND_AGAIN, place_unit=places["dongguan"])
    # then only the similar case of 城关镇 is offered, with its similarity
    assert numbers(found) == [similar.number]
    assert found[0].reason == RepeatReason.TEXT and found[0].similarity > 0.5
    assert elsewhere.number not in numbers(found)


def test_similar_text_comes_most_similar_first_after_the_same_person(clerk, places, trigrams):
    person = PetitionerFactory()
    mine = case_of(person, summary="别的事情", place_unit=places["hekou"])
    close = case_of(summary=LAND, place_unit=places["dongguan"])
    closer = case_of(summary=LAND_AGAIN, place_unit=places["dongguan"])
    found = repeat_candidates(user=clerk, id_numbers=[person.id_number], summary=LAND_AGAIN,
                              place_unit=places["dongguan"])
    assert numbers(found) == [mine.number, closer.number, close.number]
    assert len(repeat_candidates(user=clerk, id_numbers=[person.id_number], summary=LAND_AGAIN,
                                 place_unit=places["dongguan"], limit=2)) == 2


def test_without_pg_trgm_the_similar_text_part_is_skipped(clerk, places):
    # given a database without the extension (dropped inside this test's transaction)
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION IF EXISTS pg_trgm CASCADE")
    person = PetitionerFactory()
    mine = case_of(person, summary=LAND, place_unit=places["dongguan"])
    case_of(summary=LAND, place_unit=places["dongguan"])
    # when / then: the same person is still found, and nothing fails
    found = repeat_candidates(user=clerk, id_numbers=[person.id_number], summary=LAND_AGAIN,
                              place_unit=places["dongguan"])
    assert numbers(found) == [mine.number]


# --- Only what the clerk may see ------------------------------------------------------

def test_a_case_the_clerk_may_not_see_is_not_offered(clerk, unit, places, trigrams):
    # given cases registered by another office (the clerk's office is the petition bureau)
    person = PetitionerFactory(phone="13955507777")
    other_office = unit("341122-D01")
    case_of(person, registered_unit=other_office)
    case_of(summary=LAND, place_unit=places["dongguan"], registered_unit=other_office)
    # when / then
    assert repeat_candidates(user=clerk, id_numbers=[person.id_number], phones=[person.phone],
                             summary=LAND_AGAIN, place_unit=places["dongguan"]) == []


def test_constant_number_of_queries(clerk, places, trigrams, django_assert_num_queries):
    # given one person with one case, then five people with two cases each
    one = PetitionerFactory()
    case_of(one, summary=LAND, place_unit=places["dongguan"])
    many = [PetitionerFactory() for _ in range(5)]
    for person in many:
        case_of(person)
        case_of(person, summary=LAND_AGAIN, place_unit=places["xiguan"])

    def ask(people):
        return repeat_candidates(
            user=fresh(clerk), id_numbers=[p.id_number for p in people],
            phones=[p.phone for p in people],
            name_address_pairs=[(p.name, "城关镇") for p in people],
            summary=LAND, place_unit=places["dongguan"], limit=20)

    # when / then: the user's row and roles, the same person, pg_trgm present?, similar text
    with django_assert_num_queries(5):
        assert len(ask([one])) == 6  # its own case, and five similar ones in 西关社区
    with django_assert_num_queries(5):
        found = ask(many)
    assert len(found) == 11  # ten cases of the five people, and one's case by its text


# --- The form -------------------------------------------------------------------------

def signed_in(client, user, language="en"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    return client


def test_the_htmx_partial_offers_the_earlier_case_with_its_state(client, clerk, places,
                                                                 trigrams):
    # given an earlier case of 张三, final after re-review, and a similar one nearby
    earlier = case_of(PetitionerFactory(id_number=ZHANG_ID), status=CaseStatus.FINAL)
    similar = case_of(summary=LAND, place_unit=places["xiguan"])
    signed_in(client, clerk)
    # when the form's fields come in as htmx sends them
    response = client.get(reverse("cases:intake_repeats"), {
        "petitioners-0-id_number": ZHANG_ID, "petitioners-0-phone": "",
        "summary": LAND_AGAIN, "place_unit": str(places["dongguan"].pk)})
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert earlier.number in body and similar.number in body
    assert f'data-repeat-number="{earlier.number}"' in body
    assert "Re-reviewed, final" in body and "new facts and reasons" in body
    assert "Same petitioner" in body and "Similar facts, same place" in body


def test_the_partial_is_empty_when_nothing_matches_and_is_for_clerks_only(client, clerk,
                                                                          handler):
    signed_in(client, clerk)
    url = reverse("cases:intake_repeats")
    assert client.get(url, {"summary": "无"}).content.decode().strip() == ""
    signed_in(client, handler)
    assert client.get(url, {"petitioners-0-phone": "13955501234"}).status_code == 403


def test_the_form_asks_for_repeats_as_the_clerk_types(client, clerk):
    signed_in(client, clerk)
    body = client.get(reverse("cases:intake")).content.decode()
    assert f'hx-get="{reverse("cases:intake_repeats")}"' in body
    assert 'id="pd-repeats"' in body and 'name="check_repeats"' in body


def test_without_javascript_the_candidates_show_after_a_submit(client, clerk, unit):
    # given an earlier case of 张三
    earlier = case_of(PetitionerFactory(id_number=ZHANG_ID))
    signed_in(client, clerk)
    data = {"office": str(unit("341122-D00").pk), "channel": "visit", "summary": "",
            "petitioners-TOTAL_FORMS": "1", "petitioners-INITIAL_FORMS": "0",
            "petitioners-MIN_NUM_FORMS": "1", "petitioners-MAX_NUM_FORMS": "100",
            "petitioners-0-name": "张三", "petitioners-0-id_type": "resident_id",
            "petitioners-0-id_number": ZHANG_ID}
    # when the clerk presses "Look for earlier cases", or a submit fails
    looked = client.post(reverse("cases:intake"), {**data, "check_repeats": "1"})
    failed = client.post(reverse("cases:intake"), {**data, "register": "1"})
    # then the earlier case is offered, with what was typed kept
    assert earlier.number in looked.content.decode()
    assert "There is a problem" not in looked.content.decode()
    assert earlier.number in failed.content.decode()
    assert "There is a problem" in failed.content.decode()


# --- The system check -----------------------------------------------------------------

@pytest.mark.parametrize("ctype", ["C", "POSIX", "c"])
def test_a_database_without_utf8_ctype_is_an_error(ctype):
    errors = ctype_errors(ctype, database="petitiondesk")
    assert [error.id for error in errors] == ["cases.E001"]
    assert "C.UTF-8" in str(errors[0].hint) and "petitiondesk" in str(errors[0].msg)


@pytest.mark.parametrize("ctype", ["C.UTF-8", "zh_CN.UTF-8", "en_US.utf8"])
def test_a_utf8_ctype_passes(ctype):
    assert ctype_errors(ctype) == []


def test_the_embedded_database_passes_the_check():
    assert database_ctype("default").upper().replace("-", "").endswith("UTF8")
    assert check_database_ctype(databases=["default"]) == []
    assert check_database_ctype(databases=None) == []  # not asked for a database: nothing read


def test_the_check_is_registered_for_database_checks():
    assert check_database_ctype in registry.get_checks(include_deployment_checks=True)
    assert not [m for m in run_checks(databases=["default"], tags=["database"])
                if m.id == "cases.E001"]

"""The receiving officer and the marks at intake (cases/DECISIONS.md row F): the service's
rules, the form and its messages at the fields, the first-petition proposal, the case page."""

from dataclasses import replace
from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, RoleAssignment, User
from cases.choices import Channel, Purpose
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import Case, Petitioner
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.tests.factories import (
    CaseFactory,
    CasePetitionerFactory,
    CategoryFactory,
    PetitionerFactory,
    valid_resident_id,
)
from cases.tests.test_intake_form import ZHANG_ID, form_data, person, signed_in

pytestmark = pytest.mark.django_db

URL = reverse("cases:intake")
RECEIVED = datetime(2025, 11, 3, 9, 30, tzinfo=OFFICE_TZ)
THREAT = "再不解决就去市政府门口闹"


@pytest.fixture
def office(unit):
    return unit("341122-D00")


@pytest.fixture
def intake(unit):
    return CaseIntake(
        channel=Channel.VISIT, received_at=RECEIVED,
        petitioners=[PetitionerInput(name="张三", id_number=ZHANG_ID, address="城关镇东关社区",
                                     is_main=True)],
        purpose=Purpose.REMEDY, category=CategoryFactory(), summary="土地补偿款未发放",
        demands="请求发放补偿款", place_unit=unit("341122100001"))


@pytest.fixture
def matter(unit):
    return {"office": unit("341122-D00"), "category": CategoryFactory(name="征地拆迁"),
            "place": unit("341122100001")}


def checkbox(body: str, name: str) -> str:
    """The ``<input>`` tag of the checkbox ``name`` on the page."""
    return body.split(f'name="{name}"')[1].split(">")[0]


# --- The service ---------------------------------------------------------------------------

def test_the_marks_and_the_receiving_officer_are_stored(clerk, handler, office, intake):
    # given an intake received by a handler of a township of the county, with every mark
    marked = replace(intake, receiving_officer=handler, is_first_petition=True,
                     is_level_skipping=True, is_litigation_related=True, has_threat=True,
                     threat_words=f"  {THREAT} ", is_secret=True, is_public=True)
    # when it is registered
    case = case_register(actor=clerk, office=office, intake=marked)
    # then each mark is on the case, the words trimmed
    case.refresh_from_db()
    assert case.receiving_officer == handler
    assert (case.is_first_petition, case.is_level_skipping, case.is_litigation_related,
            case.has_threat, case.is_secret, case.is_public) == (True,) * 6
    assert case.threat_words == THREAT


def test_by_default_no_mark_is_set_and_public_is_no(clerk, office, intake):
    case = case_register(actor=clerk, office=office, intake=intake)
    case.refresh_from_db()
    assert not any((case.is_first_petition, case.is_level_skipping, case.is_litigation_related,
                    case.has_threat, case.is_secret, case.is_public))
    assert case.receiving_officer is None and case.threat_words == ""


def test_a_repeat_cannot_be_a_first_petition(clerk, office, intake):
    # given an earlier case of the county
    earlier = CaseFactory(registered_by=clerk)
    # when the new one is linked to it and marked first petition
    with pytest.raises(ValidationError) as refused:
        case_register(actor=clerk, office=office,
                      intake=replace(intake, repeat_of=earlier, is_first_petition=True))
    # then it is refused, naming the earlier case, and nothing is registered
    assert refused.value.code == "first_petition_repeat"
    assert refused.value.params == {"number": earlier.number}
    assert Case.objects.count() == 1
    # and the repeat alone, or the mark alone, registers
    case_register(actor=clerk, office=office, intake=replace(intake, repeat_of=earlier))
    case_register(actor=clerk, office=office, intake=replace(intake, is_first_petition=True))
    assert Case.objects.count() == 3


@pytest.mark.parametrize("words", ["", "   \n "])
def test_a_threat_needs_its_words(clerk, office, intake, words):
    with pytest.raises(ValidationError) as refused:
        case_register(actor=clerk, office=office,
                      intake=replace(intake, has_threat=True, threat_words=words))
    assert refused.value.code == "threat_words"
    assert not Case.objects.exists()


def test_words_without_the_threat_mark_are_not_kept(clerk, office, intake):
    case = case_register(actor=clerk, office=office,
                         intake=replace(intake, has_threat=False, threat_words=THREAT))
    case.refresh_from_db()
    assert not case.has_threat and case.threat_words == ""


def other_county_officer() -> User:
    county = OrgUnit.objects.add_root(instance=OrgUnit(name="河西县", kind=UnitKind.COUNTY,
                                                       code="341199"))
    user = User.objects.create_user(username="hexi", password="x", name="河西接待")
    RoleAssignment.objects.create(user=user, role=Role.CLERK, unit=county)
    return user


def test_the_receiving_officer_must_work_in_the_county(clerk, office, intake):
    # given someone of another county, someone with no role, and a clerk who left
    outsider = other_county_officer()
    nobody = User.objects.create_user(username="nobody", password="x")
    gone = User.objects.create_user(username="gone", password="x", is_active=False)
    RoleAssignment.objects.create(user=gone, role=Role.CLERK, unit=office)
    for officer in (outsider, nobody, gone):
        # when each is given as the receiving officer
        with pytest.raises(ValidationError) as refused:
            case_register(actor=clerk, office=office,
                          intake=replace(intake, receiving_officer=officer))
        # then it is refused, naming them
        assert refused.value.code == "receiving_officer"
        assert refused.value.params["name"] == officer.display_name
    assert not Case.objects.exists()


# --- The form ------------------------------------------------------------------------------

def test_the_form_offers_the_office_staff_with_the_clerk_chosen(client, clerk, handler, matter):
    signed_in(client, clerk, "en")
    body = client.get(URL).content.decode()
    assert 'name="receiving_officer"' in body
    assert f'<option value="{clerk.pk}" selected>{clerk.display_name}</option>' in body
    assert f'value="{handler.pk}"' not in body  # a township handler is not the office's staff
    for mark in ("is_first_petition", "is_level_skipping", "is_litigation_related", "has_threat",
                 "is_secret", "is_public"):
        assert f'name="{mark}"' in body
    assert 'name="threat_words"' in body and 'name="petitioners-0-ethnicity"' in body


def test_the_clerk_registers_with_marks_officer_and_ethnicity(client, clerk, matter):
    # given a colleague of the clerk's office who received the petitioner
    colleague = User.objects.create_user(username="colleague", password="x", name="钱接谈")
    RoleAssignment.objects.create(user=colleague, role=Role.CLERK, unit=matter["office"])
    signed_in(client, clerk, "en")
    data = form_data(matter, person("张三", ZHANG_ID, ethnicity="回族"),
                     receiving_officer=str(colleague.pk), is_first_petition="on",
                     has_threat="on", threat_words=THREAT, is_level_skipping="on")
    # when the form is sent
    response = client.post(URL, data)
    # then the case carries them, and the petitioner their ethnicity
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.receiving_officer == colleague
    assert case.is_first_petition and case.has_threat and case.is_level_skipping
    assert not case.is_public and not case.is_secret and case.threat_words == THREAT
    assert Petitioner.objects.get().ethnicity == "回族"


def test_without_the_officer_field_the_clerk_received_the_petitioner(client, clerk, matter):
    signed_in(client, clerk)
    client.post(URL, form_data(matter, person("张三", ZHANG_ID)))
    assert Case.objects.get().receiving_officer == clerk


def test_a_first_petition_linked_as_repeat_is_shown_at_the_field(client, clerk, matter):
    # given an earlier case the clerk may see
    earlier = CaseFactory(registered_by=clerk, registered_unit=matter["office"])
    signed_in(client, clerk, "en")
    # when the clerk links it and leaves "first petition" ticked
    response = client.post(URL, form_data(matter, person("张三", ZHANG_ID),
                                           repeat_of=earlier.number, is_first_petition="on"))
    # then the message is on top and at the box, and what was typed is kept
    body = response.content.decode()
    assert response.status_code == 200 and Case.objects.count() == 1
    assert "is not a first petition" in body and earlier.number in body
    assert 'href="#id_is_first_petition"' in body and 'id="id_is_first_petition-error"' in body
    assert 'value="张三"' in body


def test_a_threat_without_words_is_shown_at_the_words(client, clerk, matter):
    signed_in(client, clerk, "en")
    response = client.post(URL, form_data(matter, person("张三", ZHANG_ID), has_threat="on"))
    body = response.content.decode()
    assert not Case.objects.exists()
    assert "Write down the words of the threat" in body
    assert 'href="#id_threat_words"' in body and 'id="id_threat_words-error"' in body


def test_an_officer_outside_the_office_is_refused_by_the_form(client, clerk, matter):
    signed_in(client, clerk, "en")
    outsider = other_county_officer()
    response = client.post(URL, form_data(matter, person("张三", ZHANG_ID),
                                           receiving_officer=str(outsider.pk)))
    assert response.status_code == 200 and not Case.objects.exists()
    assert 'href="#id_receiving_officer"' in response.content.decode()


# --- The first-petition proposal ------------------------------------------------------------

def repeats(client, **params):
    return client.get(reverse("cases:intake_repeats"), params).content.decode()


def test_the_repeat_search_proposes_a_first_petition_for_a_new_person(client, clerk):
    # given 张三 with an earlier case, and nobody on file with another number
    known = PetitionerFactory(name="张三", id_number=ZHANG_ID)
    CasePetitionerFactory(petitioner=known, case=CaseFactory(registered_by=clerk))
    signed_in(client, clerk, "en")
    # then a new person is proposed as a first petition, 张三 is not, and no one typed: nothing
    assert 'data-first-petition="1"' in repeats(client, **{
        "petitioners-0-id_number": valid_resident_id(321)})
    assert 'data-first-petition="0"' in repeats(client, **{"petitioners-0-id_number": ZHANG_ID})
    assert "data-first-petition" not in repeats(client, summary="征地补偿款未按期发放")


def test_without_javascript_looking_for_earlier_cases_ticks_first_petition(client, clerk, matter):
    signed_in(client, clerk, "en")
    data = form_data(matter, person("张三", valid_resident_id(322)), check_repeats="1")
    body = client.post(URL, data).content.decode()
    assert "checked" in checkbox(body, "is_first_petition")
    assert "There is a problem" not in body and not Case.objects.exists()


def test_looking_again_for_a_known_person_unticks_it(client, clerk, matter):
    known = PetitionerFactory(name="张三", id_number=ZHANG_ID)
    CasePetitionerFactory(petitioner=known, case=CaseFactory(registered_by=clerk))
    signed_in(client, clerk, "en")
    data = form_data(matter, person("张三", ZHANG_ID), check_repeats="1", is_first_petition="on")
    body = client.post(URL, data).content.decode()
    assert "checked" not in checkbox(body, "is_first_petition")


def test_without_javascript_a_linked_repeat_is_never_ticked_first(client, clerk, matter):
    # given the clerk already put an earlier case's number in "Repeat of"
    earlier = CaseFactory(registered_by=clerk)
    signed_in(client, clerk, "en")
    data = form_data(matter, person("张三", valid_resident_id(323)), check_repeats="1",
                     repeat_of=earlier.number)
    # when they look for earlier cases, then "first petition" stays unticked
    body = client.post(URL, data).content.decode()
    assert "checked" not in checkbox(body, "is_first_petition")


# --- The case page -------------------------------------------------------------------------

def test_the_case_page_shows_the_officer_the_marks_and_the_words(client, clerk, office, intake):
    case = case_register(actor=clerk, office=office, intake=replace(
        intake, receiving_officer=clerk, has_threat=True, threat_words=THREAT,
        is_litigation_related=True))
    signed_in(client, clerk, "en")
    body = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert clerk.display_name in body
    assert "Litigation-related" in body and "Threat" in body and THREAT in body
    assert "First petition</span>" not in body

"""The intake form (/cases/intake/) through the real stack: one visit, a group, refusals, once only."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import Channel
from cases.idnumbers import check_digit
from cases.models import Case, CasePetitioner, Petitioner
from cases.tests.factories import (
    CaseFactory,
    CasePetitionerFactory,
    CategoryFactory,
    PetitionerFactory,
    valid_resident_id,
)

pytestmark = pytest.mark.django_db
URL = reverse("cases:intake")
ZHANG_ID = "34112219800101001" + check_digit("34112219800101001")
WRONG_CHECK = ZHANG_ID[:17] + ("0" if ZHANG_ID[17] != "0" else "1")


def signed_in(client, user, language: str = "zh-hans"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    return client


@pytest.fixture
def matter(unit):
    """What the form needs besides the people: the office, a category, the place."""
    return {"office": unit("341122-D00"), "category": CategoryFactory(name="征地拆迁"),
            "place": unit("341122100001")}


def person(name: str, id_number: str = "", **extra) -> dict:
    return {"name": name, "id_type": "resident_id", "id_number": id_number,
            "address": extra.pop("address", "城关镇东关社区"), **extra}


def form_data(matter, *people: dict, **overrides) -> dict:
    received = timezone.localtime() - timedelta(hours=1)
    data = {
        "token": str(uuid4()), "office": str(matter["office"].pk), "channel": Channel.VISIT,
        "received_at": received.strftime("%Y-%m-%dT%H:%M"), "purpose": "remedy",
        "category": str(matter["category"].pk), "place_unit": str(matter["place"].pk),
        "summary": "征地补偿款未按期发放", "demands": "请求尽快发放补偿款", "urgency": "normal",
        "petitioners-TOTAL_FORMS": str(len(people)), "petitioners-INITIAL_FORMS": "0",
        "petitioners-MIN_NUM_FORMS": "1", "petitioners-MAX_NUM_FORMS": "100",
    }
    for index, fields in enumerate(people):
        for key, value in fields.items():
            if value is True:
                value = "on"
            data[f"petitioners-{index}-{key}"] = value
    data.update(overrides)
    return data


def group(size: int, *, representatives: int) -> list[dict]:
    return [person(f"村民{i}", valid_resident_id(700 + i),
                   is_representative=i < representatives) for i in range(size)]


def test_clerk_registers_a_one_person_visit_and_lands_on_the_case_page(client, clerk, matter):
    # given
    signed_in(client, clerk, "en")
    page = client.get(URL)
    assert page.status_code == 200 and 'name="token"' in page.content.decode()
    # when
    response = client.post(URL, form_data(matter, person("张三", ZHANG_ID, phone="13912345678")),
                           follow=True)
    # then
    case = Case.objects.get()
    assert response.redirect_chain == [(reverse("cases:detail", args=[case.number]), 302)]
    party = CasePetitioner.objects.get(case=case)
    assert party.is_main and party.petitioner.id_number == ZHANG_ID
    assert party.petitioner.sex == "M"  # the 17th digit is odd
    assert case.place_unit == matter["place"] and case.headcount == 1 and not case.is_group
    assert case.intake_token is not None
    body = response.content.decode()
    assert case.number in body and case.query_code in body and "route" in body


def test_group_visit_with_three_representatives(client, clerk, matter):
    signed_in(client, clerk)
    data = form_data(matter, *group(4, representatives=3), headcount="30")
    response = client.post(URL, data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.is_group and case.headcount == 30
    parties = CasePetitioner.objects.filter(case=case)
    assert parties.count() == 4
    assert parties.filter(is_representative=True).count() == 3
    assert parties.filter(is_main=True).get().petitioner.name == "村民0"


def test_a_sixth_representative_is_refused_and_what_was_typed_is_kept(client, clerk, matter):
    # given
    signed_in(client, clerk, "en")
    data = form_data(matter, *group(6, representatives=6), summary="村里修路占地没有补偿")
    # when
    response = client.post(URL, data)
    # then nothing is registered, and the service's message says why, on top and at the people
    assert response.status_code == 200 and not Case.objects.exists()
    body = response.content.decode()
    assert "at most 5 representatives" in body
    assert 'href="#pd-petitioners"' in body and 'id="pd-petitioners-error"' in body
    assert "村里修路占地没有补偿" in body and 'value="村民5"' in body
    assert f'value="{valid_resident_id(705)}"' in body
    assert not Petitioner.objects.exists()


def test_a_wrong_check_digit_is_refused_at_the_field(client, clerk, matter):
    signed_in(client, clerk, "en")
    response = client.post(URL, form_data(matter, person("张三", WRONG_CHECK)))
    assert response.status_code == 200 and not Case.objects.exists()
    body = response.content.decode()
    message = f"it should end in {ZHANG_ID[17]}"
    assert message in body
    assert 'href="#id_petitioners-0-id_number"' in body
    assert 'id="id_petitioners-0-id_number-error"' in body
    assert f'value="{WRONG_CHECK}"' in body


def test_a_missing_place_is_refused(client, clerk, matter):
    signed_in(client, clerk, "en")
    response = client.post(URL, form_data(matter, person("张三", ZHANG_ID), place_unit=""))
    body = response.content.decode()
    assert response.status_code == 200 and not Case.objects.exists()
    assert "Choose the place of the matter." in body
    assert 'href="#id_place_unit"' in body and 'id="id_place_unit-error"' in body


def test_a_missing_main_address_is_shown_at_the_field(client, clerk, matter):
    signed_in(client, clerk, "en")
    response = client.post(URL, form_data(matter, person("张三", ZHANG_ID, address="")))
    body = response.content.decode()
    assert not Case.objects.exists()
    assert 'href="#id_petitioners-0-address"' in body and "main petitioner&#x27;s address" in body


def test_the_same_form_twice_registers_one_case(client, clerk, matter):
    # given one form, with its token
    signed_in(client, clerk, "en")
    data = form_data(matter, person("张三", ZHANG_ID))
    # when it is posted twice (a double click, a reload after a slow answer)
    first = client.post(URL, data)
    second = client.post(URL, data, follow=True)
    # then one case, and the second lands on it and says so
    case = Case.objects.get()
    assert first["Location"] == reverse("cases:detail", args=[case.number])
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "nothing was registered twice" in second.content.decode()
    assert Petitioner.objects.count() == 1


def test_a_new_form_registers_a_new_case(client, clerk, matter):
    signed_in(client, clerk)
    client.post(URL, form_data(matter, person("张三", ZHANG_ID)))
    client.post(URL, form_data(matter, person("张三", ZHANG_ID)))
    assert Case.objects.count() == 2 and Petitioner.objects.count() == 1


def test_add_another_petitioner_keeps_the_form_without_errors(client, clerk, matter):
    signed_in(client, clerk, "en")
    data = form_data(matter, person("张三", ZHANG_ID), summary="", add_petitioner="1")
    body = client.post(URL, data).content.decode()
    assert 'name="petitioners-1-name"' in body and 'value="张三"' in body
    assert "There is a problem" not in body and not Case.objects.exists()


def test_repeat_of_an_unknown_case_is_refused(client, clerk, matter):
    signed_in(client, clerk, "en")
    response = client.post(URL, form_data(matter, person("张三", ZHANG_ID),
                                           repeat_of="341122-2020-000001"))
    assert "No case you may see has the number 341122-2020-000001." in response.content.decode()
    assert not Case.objects.exists()


def test_a_handler_gets_403(client, handler):
    signed_in(client, handler)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {}).status_code == 403


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Register a petition", "Main petitioner", "Place of the matter"]),
    ("zh-hans", ["登记"]),
])
def test_the_form_renders_in_english_and_chinese(client, clerk, matter, language, words):
    signed_in(client, clerk, language)
    body = client.get(URL).content.decode()
    for word in words:
        assert word in body
    assert f'lang="{language}"' in body
    assert "intake.js" in body


def test_lookup_offers_the_person_on_file_with_their_cases(client, clerk, matter):
    # given a person on a case the clerk's office registered, and one on no case
    known = PetitionerFactory(name="张三", id_number=ZHANG_ID, phone="13912345679")
    case = CasePetitionerFactory(petitioner=known, case=CaseFactory()).case
    PetitionerFactory(name="李四", phone="13800000000", id_number="")
    signed_in(client, clerk, "en")
    lookup = reverse("cases:intake_lookup")
    # when the ID number is typed in the first row
    body = client.get(lookup, {"petitioners-0-id_number": ZHANG_ID}).content.decode()
    # then the person is offered with the case the clerk may open
    assert "张三" in body and "1 earlier case" in body and case.number in body
    # and by phone someone on no case shows masked
    body = client.get(lookup, {"petitioners-1-phone": "13800000000"}).content.decode()
    assert "李*" in body and "李四" not in body and "0 earlier cases" in body
    # and half a number finds nothing
    assert "earlier" not in client.get(lookup, {"petitioners-0-id_number": ZHANG_ID[:10]}).text
    # and the form asks for it as the clerk types
    assert f'hx-get="{lookup}"' in client.get(URL).content.decode()


def test_lookup_is_for_clerks_only(client, handler):
    signed_in(client, handler)
    assert client.get(reverse("cases:intake_lookup"), {"x-phone": "13912345678"}).status_code == 403

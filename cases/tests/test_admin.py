"""The case admin shows only the administrator's jurisdiction; the calendar and category admins."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit
from accounts.services import org_unit_create, role_grant
from accounts.tests.factories import UserFactory
from cases.models import AnnouncedYear, CalendarDay, Category
from cases.tests.factories import (
    CaseFactory,
    CasePetitionerFactory,
    CategoryFactory,
    DeadlineFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_case(county):
    """A case registered by another county's petition office."""
    other = org_unit_create(name="邻县", kind=UnitKind.COUNTY, code="341199", parent=None)
    office = org_unit_create(name="邻县信访局", kind=UnitKind.DEPARTMENT, code="341199-D00",
                             parent=other)
    return CaseFactory(registered_unit=office, place_unit=office)


@pytest.fixture
def case_admin_client_en(admin_client_en, admin_user, county):
    """The county's system administrator, who is also the county's supervisor: an
    administrator sees cases only through a case role (三员分立)."""
    role_grant(user=admin_user, role=Role.SUPERVISOR, unit=county)
    return admin_client_en


def test_an_administrator_without_a_case_role_sees_no_case(admin_client_en, foreign_case):
    CaseFactory()
    assert admin_client_en.get(reverse("admin:cases_case_changelist")).status_code == 403
    assert admin_client_en.get(reverse("admin:cases_deadline_changelist")).status_code == 403


def test_case_admin_lists_only_the_administrators_cases(case_admin_client_en, foreign_case):
    admin_client_en = case_admin_client_en
    own = CaseFactory()
    listing = admin_client_en.get(reverse("admin:cases_case_changelist"))
    assert listing.status_code == 200
    shown = list(listing.context["cl"].result_list)
    assert own in shown
    assert foreign_case not in shown
    page = admin_client_en.get(reverse("admin:cases_case_change", args=[foreign_case.pk]))
    assert page.status_code == 302  # "does not exist" back to the index, not the case


def test_deadline_admin_lists_only_clocks_of_visible_cases(case_admin_client_en, foreign_case):
    admin_client_en = case_admin_client_en
    own = DeadlineFactory(case=CaseFactory())
    foreign = DeadlineFactory(case=foreign_case)
    listing = admin_client_en.get(reverse("admin:cases_deadline_changelist"))
    shown = list(listing.context["cl"].result_list)
    assert own in shown
    assert foreign not in shown
    page = admin_client_en.get(reverse("admin:cases_deadline_change", args=[foreign.pk]))
    assert page.status_code == 302


def test_a_second_county_administrator_sees_their_own_cases(client, foreign_case):
    other_admin = UserFactory(username="neighbour-admin")
    neighbour = OrgUnit.objects.get(code="341199")
    role_grant(user=other_admin, role=Role.ADMINISTRATOR, unit=neighbour)
    role_grant(user=other_admin, role=Role.SUPERVISOR, unit=neighbour)
    CaseFactory()
    client.force_login(other_admin)
    listing = client.get(reverse("admin:cases_case_changelist"))
    assert list(listing.context["cl"].result_list) == [foreign_case]


def test_case_change_page_queries_do_not_grow_with_petitioners(
        case_admin_client_en):
    admin_client_en = case_admin_client_en
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(case) -> int:
        url = reverse("admin:cases_case_change", args=[case.pk])
        with CaptureQueriesContext(connection) as captured:
            assert admin_client_en.get(url).status_code == 200
        return len(captured)

    one = CaseFactory()
    CasePetitionerFactory(case=one)
    many = CaseFactory()
    for index in range(5):
        CasePetitionerFactory(case=many, is_main=index == 0)
    queries_for(one)  # warm caches (content types, roles)
    assert queries_for(many) == queries_for(one)


def test_category_tree_is_edited_in_the_admin(admin_client_en):
    root = CategoryFactory(name="城乡建设", code="A")
    response = admin_client_en.post(reverse("admin:cases_category_add"), {
        "name": "拆迁安置", "code": "A01", "is_active": "on",
        "treebeard_position": "sorted-child", "treebeard_ref_node": root.pk,
    })
    assert response.status_code == 302
    child = Category.objects.get(code="A01")
    assert Category.objects.get_parent(child) == root
    assert admin_client_en.get(reverse("admin:cases_category_changelist")).status_code == 200


def test_category_admin_is_for_administrators_only(client, clerk):
    client.force_login(clerk)
    assert client.get(reverse("admin:cases_category_changelist")).status_code in (302, 403)


def test_a_year_without_holidays_cannot_be_announced(admin_client_en):
    response = admin_client_en.post(reverse("admin:cases_announcedyear_add"),
                                 {"year": 2031, "note": ""})
    assert response.status_code == 200
    assert "Enter the holidays of 2031" in response.content.decode()
    assert not AnnouncedYear.objects.filter(year=2031).exists()


def test_a_year_with_holidays_can_be_announced(admin_client_en):
    CalendarDay.objects.create(day=date(2031, 1, 1), is_workday=False, name="元旦")
    response = admin_client_en.post(reverse("admin:cases_announcedyear_add"),
                                 {"year": 2031, "note": "国办发明电〔2030〕1号"})
    assert response.status_code == 302
    assert AnnouncedYear.objects.filter(year=2031).exists()

"""The OrgUnit admin keeps the tree's shape; create_administrator makes an administrator."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, RoleAssignment, User
from accounts.permissions import Action, can

pytestmark = pytest.mark.django_db

STRONG = "qinghe-admin-2026!"


def unit_add(admin_client_en, *, kind, code, reference, position="sorted-child"):
    return admin_client_en.post(reverse("admin:accounts_orgunit_add"), {
        "name": "新单位", "kind": kind, "code": code, "is_active": "on",
        "treebeard_position": position,
        "treebeard_ref_node": reference.pk if reference else "",
    })


def test_admin_refuses_a_grid_under_the_county(admin_client_en, county, english):
    response = unit_add(admin_client_en, kind=UnitKind.GRID, code="341122-GX", reference=county)
    assert response.status_code == 200  # the form again, with the error
    assert "cannot be placed under" in response.content.decode()
    assert not OrgUnit.objects.filter(code="341122-GX").exists()


def test_admin_refuses_a_grid_as_a_sibling_of_a_township(admin_client_en, unit, english):
    township = unit("341122100")
    response = unit_add(admin_client_en, kind=UnitKind.GRID, code="341122-GY", reference=township,
                        position="sorted-sibling")
    assert response.status_code == 200
    assert not OrgUnit.objects.filter(code="341122-GY").exists()


def test_admin_refuses_a_second_root_that_is_not_a_county(admin_client_en, county, english):
    response = unit_add(admin_client_en, kind=UnitKind.GRID, code="X-ROOT", reference=None)
    assert response.status_code == 200
    assert "Only a county" in response.content.decode()
    assert not OrgUnit.objects.filter(code="X-ROOT").exists()


def test_admin_adds_a_village_under_a_township(admin_client_en, unit):
    township = unit("341122100")
    response = unit_add(admin_client_en, kind=UnitKind.VILLAGE, code="341122100099",
                        reference=township)
    assert response.status_code == 302
    added = OrgUnit.objects.get(code="341122100099")
    assert OrgUnit.objects.get_parent(added) == township


def test_create_administrator_creates_the_user_and_grants_the_role(county):
    call_command("create_administrator", "--username", "wang", "--unit", "341122",
                 "--name", "王管理", "--password", STRONG)
    user = User.objects.get(username="wang")
    assert user.name == "王管理"
    assert user.is_staff
    assert user.check_password(STRONG)
    assert RoleAssignment.objects.filter(user=user, role=Role.ADMINISTRATOR,
                                         unit=county).exists()
    assert can(user, Action.ADMINISTER)


def test_create_administrator_reads_the_environment_and_keeps_an_existing_password(
        county, monkeypatch):
    User.objects.create_user(username="li", password=STRONG)
    monkeypatch.setenv("ADMIN_PASSWORD", "another-long-secret-99")
    call_command("create_administrator", "--username", "li", "--unit", "341122")
    user = User.objects.get(username="li")
    assert user.check_password(STRONG)
    assert user.is_staff
    call_command("create_administrator", "--username", "zhao", "--unit", "341122")
    assert User.objects.get(username="zhao").check_password("another-long-secret-99")


def test_create_administrator_prompts_twice(county, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    answers = iter([STRONG, STRONG])
    monkeypatch.setattr("accounts.management.commands.create_administrator.getpass",
                        lambda prompt: next(answers))
    call_command("create_administrator", "--username", "qian", "--unit", "341122")
    assert User.objects.get(username="qian").check_password(STRONG)


def test_create_administrator_refuses_a_weak_password(county, english):
    with pytest.raises(CommandError, match="too short"):
        call_command("create_administrator", "--username", "wang", "--unit", "341122",
                     "--password", "123")
    assert not User.objects.filter(username="wang").exists()


def test_create_administrator_refuses_an_unknown_unit(county, english):
    with pytest.raises(CommandError, match="999999"):
        call_command("create_administrator", "--username", "wang", "--unit", "999999",
                     "--password", STRONG)
    assert not User.objects.filter(username="wang").exists()

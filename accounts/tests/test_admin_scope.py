"""The administrators, scoped to their subtree and separated (三员分立): each test tries the attack.

A township administrator (of 城关镇) tries to reach the county; each of the county's three
administrators (system ``admin``, ``security``, ``audit``) tries the others' pages.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, RoleAssignment, User
from accounts.permissions import Action, can, scope
from accounts.services import role_grant
from accounts.tests.factories import UserFactory
from cases.choices import EventKind
from cases.models import CalendarDay, CaseEvent, DeadlineRule
from cases.tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

TOWNSHIP = "341122100"  # 城关镇: the demo handler, head, mediator and grid worker are in it
NEW_PASSWORD = "Qinghe-2026-reset"


@pytest.fixture
def township_admin(demo_users, unit) -> User:
    """A system administrator of 城关镇 (tests only; not a demo login)."""
    user = UserFactory(username="cg-admin")
    role_grant(user=user, role=Role.ADMINISTRATOR, unit=unit(TOWNSHIP))
    return user


@pytest.fixture
def as_user():
    def sign_in(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return sign_in


def roles_of(user: User) -> set[tuple[str, str]]:
    return set(RoleAssignment.objects.filter(user=user).values_list("role", "unit__code"))


# --- The township administrator's attacks ------------------------------------------------

def test_a_township_admin_cannot_grant_themselves_a_county_role(township_admin, as_user, county):
    # given
    client = as_user(township_admin)
    before = roles_of(township_admin)
    # when they post a grant of the county's supervisor role to themselves
    response = client.post("/admin/accounts/roleassignment/add/", {
        "user": township_admin.pk, "role": Role.SUPERVISOR, "unit": county.pk})
    # then the form comes back refusing both choices, and nothing is granted
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "user" in errors and "unit" in errors
    assert roles_of(township_admin) == before


def test_a_township_admin_cannot_grant_themselves_a_role_through_their_user_page(
        township_admin, as_user, county):
    client = as_user(township_admin)
    response = client.post(f"/admin/accounts/user/{township_admin.pk}/change/", {
        "username": township_admin.username, "is_active": "on", "language": "zh-hans",
        "role_assignments-TOTAL_FORMS": "1", "role_assignments-INITIAL_FORMS": "0",
        "role_assignments-0-role": Role.SUPERVISOR, "role_assignments-0-unit": county.pk,
    })
    # their own user is out of their reach (an administrator of their own level)
    assert response.status_code == 302
    assert roles_of(township_admin) == {(Role.ADMINISTRATOR, TOWNSHIP)}


def test_a_township_admin_cannot_grant_at_their_own_unit_nor_as_a_service(
        township_admin, handler, unit):
    # at their own unit: "cannot grant a role at or above their own unit"
    with pytest.raises(PermissionDenied):
        role_grant(user=handler, role=Role.CLERK, unit=unit(TOWNSHIP), actor=township_admin)
    with pytest.raises(PermissionDenied):
        role_grant(user=township_admin, role=Role.LEADER, unit=unit("341122"),
                   actor=township_admin)
    # below it, to a user of their subtree: allowed
    role_grant(user=handler, role=Role.CLERK, unit=unit("341122100001"), actor=township_admin)
    assert (Role.CLERK, "341122100001") in roles_of(handler)


def test_a_township_admin_grants_below_their_unit_in_the_admin(township_admin, handler, as_user,
                                                              unit):
    client = as_user(township_admin)
    village = unit("341122100001")
    response = client.post("/admin/accounts/roleassignment/add/", {
        "user": handler.pk, "role": Role.CLERK, "unit": village.pk})
    assert response.status_code == 302
    assert (Role.CLERK, village.code) in roles_of(handler)
    assert LogEntry.objects.filter(user=township_admin, object_repr__contains="王办理").exists()


def test_the_role_grant_form_offers_only_units_below(township_admin, as_user, unit):
    form = as_user(township_admin).get("/admin/accounts/roleassignment/add/").context[
        "adminform"].form
    offered = set(form.fields["unit"].queryset.values_list("code", flat=True))
    assert "341122100001" in offered
    assert TOWNSHIP not in offered and "341122" not in offered and "341122101" not in offered
    users = set(form.fields["user"].queryset.values_list("username", flat=True))
    assert users >= {"handler", "head", "grid", "mediator"}
    assert not users & {"leader", "supervisor", "clerk", "admin", "cg-admin"}


def test_a_township_admin_cannot_reset_a_county_users_password(township_admin, supervisor,
                                                              as_user):
    client = as_user(township_admin)
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
            "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    # neither through Django's user page, nor through the security administrator's page
    assert client.post(f"/admin/accounts/user/{supervisor.pk}/password/", data).status_code == 403
    assert client.post(f"/admin/accounts/accountsecurity/{supervisor.pk}/password/",
                       data).status_code == 403
    supervisor.refresh_from_db()
    assert supervisor.check_password("demo")


def test_a_township_security_admin_cannot_reset_a_county_users_password(supervisor, as_user,
                                                                       unit):
    guard = UserFactory(username="cg-security")
    role_grant(user=guard, role=Role.SECURITY_ADMIN, unit=unit(TOWNSHIP))
    response = as_user(guard).post(f"/admin/accounts/accountsecurity/{supervisor.pk}/password/",
                                   {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 403
    supervisor.refresh_from_db()
    assert supervisor.check_password("demo")


def test_a_township_admin_cannot_edit_the_calendar_or_the_clock_rules(township_admin, as_user):
    client = as_user(township_admin)
    response = client.post("/admin/cases/calendarday/add/",
                           {"day": "2031-05-06", "is_workday": "", "name": "假日"})
    assert response.status_code == 403
    assert not CalendarDay.objects.filter(day="2031-05-06").exists()
    rule = DeadlineRule.objects.first()
    response = client.post(f"/admin/cases/deadlinerule/{rule.pk}/change/",
                           {"length": 1, "unit": rule.unit, "legal_basis": "x"})
    assert response.status_code == 403
    assert DeadlineRule.objects.get(pk=rule.pk).length == rule.length
    # they may read the calendar
    assert client.get("/admin/cases/calendarday/").status_code == 200


def test_a_township_admin_cannot_edit_or_deactivate_a_user_with_a_role_outside(
        township_admin, leader, handler, as_user):
    # given the leader, who leads 城关镇 and 河口镇
    client = as_user(township_admin)
    # when the township administrator renames them and tries to deactivate them
    client.post(f"/admin/accounts/user/{leader.pk}/change/", {
        "username": "renamed", "is_active": "", "language": "zh-hans",
        "role_assignments-TOTAL_FORMS": "0", "role_assignments-INITIAL_FORMS": "0"})
    client.post("/admin/accounts/user/", {"action": "deactivate", "index": 0,
                                          ACTION_CHECKBOX_NAME: [leader.pk, handler.pk]})
    # then the leader is untouched; the handler, in their subtree, is deactivated
    leader.refresh_from_db()
    handler.refresh_from_db()
    assert leader.username == "leader" and leader.is_active
    assert not handler.is_active
    listing = client.get("/admin/accounts/user/").context["cl"].result_list
    assert leader not in listing


def test_a_township_admin_cannot_revoke_a_role_of_their_own_level(township_admin, as_user, unit):
    # given a clerk of the township itself (a role in their unit, not below it)
    clerk = UserFactory(username="cg-clerk")
    grant = role_grant(user=clerk, role=Role.CLERK, unit=unit(TOWNSHIP))
    # when they post its revocation
    response = as_user(township_admin).post(
        f"/admin/accounts/roleassignment/{grant.pk}/delete/", {"post": "yes"})
    # then it stands
    assert response.status_code in (302, 403)
    assert RoleAssignment.objects.filter(pk=grant.pk).exists()


def test_a_township_admin_manages_units_only_below_their_own(township_admin, as_user, unit):
    client = as_user(township_admin)
    county, other = unit("341122"), unit("341122101")
    # the county and a neighbouring township are out of reach
    client.post(f"/admin/accounts/orgunit/{county.pk}/change/", {
        "name": "改名", "kind": UnitKind.COUNTY, "code": "341122", "is_active": "on",
        "treebeard_position": "sorted-child", "treebeard_ref_node": ""})
    assert OrgUnit.objects.get(pk=county.pk).name == "清河县"
    response = client.post("/admin/accounts/orgunit/add/", {
        "name": "新村", "kind": UnitKind.VILLAGE, "code": "341122101099", "is_active": "on",
        "treebeard_position": "sorted-child", "treebeard_ref_node": other.pk})
    assert response.status_code == 200
    assert not OrgUnit.objects.filter(code="341122101099").exists()
    # their own township's subtree is theirs
    response = client.post("/admin/accounts/orgunit/add/", {
        "name": "新村", "kind": UnitKind.VILLAGE, "code": "341122100099", "is_active": "on",
        "treebeard_position": "sorted-child", "treebeard_ref_node": unit(TOWNSHIP).pk})
    assert response.status_code == 302
    # and the tree's top, for them, is their own unit
    top = client.get("/admin/accounts/orgunit/").context["cl"].result_list
    assert [u.code for u in top] == [TOWNSHIP]


# --- treebeard's drag and drop --------------------------------------------------------------

def move(client, node, target, relation="child"):
    return client.post("/admin/accounts/orgunit/move/",
                       {"node": node.pk, "target": target.pk, "relation": relation})


def test_drag_and_drop_runs_the_kind_check(admin_client_en, unit):
    grid = unit("341122100001-G1")
    response = move(admin_client_en, grid, unit("341122101"))  # a grid under a township
    assert response.status_code == 400
    assert OrgUnit.objects.get_parent(OrgUnit.objects.get(pk=grid.pk)).code == "341122100001"


def test_drag_and_drop_stays_in_the_subtree_and_is_logged(township_admin, as_user, unit):
    client = as_user(township_admin)
    grid = unit("341122100001-G1")
    # out of their subtree: refused
    assert move(client, grid, unit("341122101001")).status_code == 403
    # within it: moved, and the log says the jurisdictions moved with it
    assert move(client, grid, unit("341122100002")).status_code == 200
    moved = OrgUnit.objects.get(pk=grid.pk)
    assert OrgUnit.objects.get_parent(moved).code == "341122100002"
    entry = LogEntry.objects.get(user=township_admin, object_id=str(grid.pk))
    assert "jurisdiction" in entry.change_message or "管辖" in entry.change_message


def test_the_managers_move_refuses_a_kind_that_may_not_sit_there(unit):
    with pytest.raises(ValidationError):
        OrgUnit.objects.move(unit("341122100001"), unit("341122"), pos="sorted-child")


# --- Separation of duties ----------------------------------------------------------------

PAGES = {
    "admin": ("/admin/accounts/user/", "/admin/accounts/roleassignment/",
              "/admin/accounts/orgunit/", "/admin/cases/calendarday/add/"),
    "security": ("/admin/accounts/accountsecurity/", "/admin/axes/accessattempt/",
                 "/admin/security/password-policy/"),
    "audit": ("/admin/admin/logentry/", "/admin/cases/caseevent/", "/admin/axes/accesslog/",
              "/admin/axes/accessfailurelog/", "/admin/admin/logentry/export/?format=csv"),
}


@pytest.mark.parametrize("owner", list(PAGES))
@pytest.mark.parametrize("username", list(PAGES))
def test_each_administrator_is_refused_the_others_pages(demo_users, as_user, username, owner):
    client = as_user(demo_users[username])
    for path in PAGES[owner]:
        expected = 200 if username == owner else 403
        assert client.get(path).status_code == expected, path


def test_each_administrators_pages_render(demo_users, as_user, handler, clerk, unit):
    # given a row on each page
    event = CaseEvent.objects.create(case=CaseFactory(), kind=EventKind.NOTE, actor=clerk,
                                     at=timezone.now())
    village = unit("341122100001")
    pages = {
        "admin": ("/admin/", f"/admin/accounts/user/{handler.pk}/change/",
                  f"/admin/accounts/orgunit/{village.pk}/change/", "/admin/accounts/user/add/",
                  "/admin/accounts/roleassignment/add/", "/admin/cases/category/"),
        "security": ("/admin/", f"/admin/accounts/accountsecurity/{handler.pk}/change/",
                     f"/admin/accounts/accountsecurity/{handler.pk}/password/"),
        "audit": ("/admin/", f"/admin/cases/caseevent/{event.pk}/change/",
                  "/admin/admin/logentry/?action_flag=2"),
    }
    for username, paths in pages.items():
        client = as_user(demo_users[username])
        for path in paths:
            assert client.get(path).status_code == 200, (username, path)
    # the security administrator finds the password policy on the index
    assert "/admin/security/password-policy/" in as_user(demo_users["security"]).get(
        "/admin/").content.decode()


def test_the_others_posts_are_refused_too(demo_users, as_user, handler):
    # the audit administrator resets a password; the security one grants a role
    audit, security = as_user(demo_users["audit"]), as_user(demo_users["security"])
    response = audit.post(f"/admin/accounts/accountsecurity/{handler.pk}/password/",
                          {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 403
    response = security.post("/admin/accounts/roleassignment/add/", {
        "user": handler.pk, "role": Role.CLERK, "unit": OrgUnit.objects.get(code="341122-D00").pk})
    assert response.status_code == 403
    handler.refresh_from_db()
    assert handler.check_password("demo")
    assert (Role.CLERK, "341122-D00") not in roles_of(handler)


def test_one_person_holds_only_one_administrator_role(demo_users, county):
    with pytest.raises(ValidationError):
        role_grant(user=demo_users["admin"], role=Role.AUDIT_ADMIN, unit=county)


@pytest.mark.parametrize("username", ["admin", "security", "audit"])
def test_no_administrator_sees_case_content(demo_users, as_user, username):
    case = CaseFactory()
    user = demo_users[username]
    assert not can(user, Action.CASE_VIEW, case)
    assert not can(user, Action.SUPERVISION_BOARD)
    client = as_user(user)
    assert client.get("/admin/cases/case/").status_code == 403
    assert client.get("/cases/").status_code == 403


def test_an_administrator_with_a_case_role_sees_cases(demo_users, as_user, county):
    admin_user = demo_users["admin"]
    role_grant(user=admin_user, role=Role.SUPERVISOR, unit=county)
    case = CaseFactory()
    listing = as_user(admin_user).get("/admin/cases/case/")
    assert case in listing.context["cl"].result_list


def test_the_three_administrators_land_on_the_admin(demo_users, client):
    for username in ("admin", "security", "audit"):
        client.force_login(demo_users[username])
        assert client.get("/")["Location"] == "/admin/"


# --- Deactivation instead of deletion --------------------------------------------------------

def test_users_are_deactivated_not_deleted(admin_client_en, clerk, handler):
    # given an audit row naming the handler
    event = CaseEvent.objects.create(case=CaseFactory(), kind=EventKind.NOTE, actor=handler,
                                     at=timezone.now())
    # when the county administrator tries to delete, then deactivates them
    assert admin_client_en.get(f"/admin/accounts/user/{handler.pk}/delete/").status_code == 403
    admin_client_en.post("/admin/accounts/user/", {"action": "delete_selected", "index": 0,
                                                   ACTION_CHECKBOX_NAME: [handler.pk]})
    assert User.objects.filter(pk=handler.pk).exists()
    admin_client_en.post("/admin/accounts/user/", {"action": "deactivate", "index": 0,
                                                   ACTION_CHECKBOX_NAME: [handler.pk]})
    # then they stay, inactive, the audit row keeps its actor, and the deactivation is logged
    handler.refresh_from_db()
    assert not handler.is_active
    assert CaseEvent.objects.get(pk=event.pk).actor == handler
    assert LogEntry.objects.filter(object_id=str(handler.pk),
                                   change_message__startswith="Deactivated").exists()


def test_a_user_made_by_an_administrator_must_change_the_password(admin_client_en):
    response = admin_client_en.post("/admin/accounts/user/add/", {
        "username": "newbie", "usable_password": "true",
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "role_assignments-TOTAL_FORMS": "0", "role_assignments-INITIAL_FORMS": "0"})
    assert response.status_code == 302
    assert User.objects.get(username="newbie").must_change_password


# --- The security administrator ------------------------------------------------------------

def test_the_security_admin_resets_a_password_and_it_must_be_changed(demo_users, as_user,
                                                                     handler):
    handler_client = as_user(handler)
    assert handler_client.get("/cases/unit/").status_code == 200
    security = demo_users["security"]
    response = as_user(security).post(f"/admin/accounts/accountsecurity/{handler.pk}/password/",
                                      {"new_password1": NEW_PASSWORD,
                                       "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    handler.refresh_from_db()
    assert handler.check_password(NEW_PASSWORD)
    assert handler.must_change_password
    assert handler_client.get("/cases/unit/").status_code == 302  # signed out
    assert LogEntry.objects.filter(user=security, object_id=str(handler.pk)).exists()


def test_the_security_admin_cannot_reset_a_fellow_administrators_password(demo_users, as_user):
    security, admin_user = demo_users["security"], demo_users["admin"]
    response = as_user(security).post(
        f"/admin/accounts/accountsecurity/{admin_user.pk}/password/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 403
    assert not scope(security, Action.USER_SECURE, User.objects.filter(pk=admin_user.pk)).exists()


def test_the_security_admin_lists_and_ends_sessions(demo_users, as_user, handler):
    handler_client = as_user(handler)
    client = as_user(demo_users["security"])
    listing = client.get("/admin/accounts/accountsecurity/?signed_in=yes")
    shown = {user.username: user.session_count for user in listing.context["cl"].result_list}
    assert shown.get("handler") == 1
    key = handler_client.session.session_key
    assert key not in listing.content.decode()  # a key shown would be a session taken over
    client.post("/admin/accounts/accountsecurity/", {"action": "end_sessions", "index": 0,
                                                     ACTION_CHECKBOX_NAME: [handler.pk]})
    assert handler_client.get("/cases/unit/").status_code == 302


def test_the_security_admin_resets_a_lockout(demo_users, as_user, handler, settings):
    attempt = AccessAttempt.objects.create(
        username="handler", ip_address="10.0.0.9", user_agent="x", http_accept="*/*",
        path_info="/accounts/login/", get_data="", post_data="",
        failures_since_start=settings.AXES_FAILURE_LIMIT)
    client = as_user(demo_users["security"])
    assert attempt in client.get("/admin/axes/accessattempt/").context["cl"].result_list
    client.post("/admin/axes/accessattempt/", {"action": "reset_lockouts", "index": 0,
                                               ACTION_CHECKBOX_NAME: [attempt.pk]})
    assert not AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert LogEntry.objects.filter(user=demo_users["security"],
                                   change_message__contains="handler").exists()


# --- The audit administrator -----------------------------------------------------------------

def test_the_audit_admin_reads_events_without_case_content(demo_users, as_user, clerk):
    case = CaseFactory()
    CaseEvent.objects.create(case=case, kind=EventKind.NOTE, actor=clerk, at=timezone.now(),
                             details={"text": "机密备注内容"})
    page = as_user(demo_users["audit"]).get("/admin/cases/caseevent/")
    assert case.number in page.content.decode()
    assert "机密备注内容" not in page.content.decode()


def test_the_audit_admin_exports_a_period(demo_users, as_user, clerk):
    # given an event in the period, one before it, and a login
    case = CaseFactory()
    now = timezone.now()
    CaseEvent.objects.create(case=case, kind=EventKind.NOTE, actor=clerk, at=now)
    CaseEvent.objects.create(case=case, kind=EventKind.ROUTED, actor=clerk,
                             at=now - timedelta(days=400))
    AccessLog.objects.create(username="clerk", ip_address="10.0.0.1", user_agent="x",
                             http_accept="*/*", path_info="/accounts/login/")
    client = as_user(demo_users["audit"])
    start = (now - timedelta(days=1)).date().isoformat()
    # when it exports the events of the period as CSV, and the logins as XLSX
    response = client.get(f"/admin/cases/caseevent/export/?at__date__gte={start}&format=csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    book = client.get("/admin/axes/accesslog/export/?username=clerk&format=xlsx")
    # then only the period's event is in it, and the workbook opens
    assert response.status_code == 200
    assert text.count(case.number) == 1
    from io import BytesIO

    from openpyxl import load_workbook
    sheet = load_workbook(BytesIO(b"".join(book.streaming_content))).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["clerk"]


def test_the_audit_admin_changes_nothing(demo_users, as_user, clerk):
    entry = LogEntry.objects.create(user=demo_users["admin"], content_type_id=None,
                                    object_repr="x", action_flag=2, change_message="m")
    client = as_user(demo_users["audit"])
    assert client.get(f"/admin/admin/logentry/{entry.pk}/change/").status_code == 200  # view
    assert client.post(f"/admin/admin/logentry/{entry.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/admin/logentry/{entry.pk}/change/",
                       {"object_repr": "y"}).status_code == 403
    assert LogEntry.objects.get(pk=entry.pk).object_repr == "x"


def test_a_superuser_is_the_break_glass_account(county, unit, as_user):
    root = User.objects.create_superuser("root", password=NEW_PASSWORD)
    newcomer = UserFactory(username="new-county-admin")
    # the first county-level administrators are granted by the installation's superuser
    response = as_user(root).post("/admin/accounts/roleassignment/add/", {
        "user": newcomer.pk, "role": Role.AUDIT_ADMIN, "unit": county.pk})
    assert response.status_code == 302
    assert can(newcomer, Action.AUDIT_READ)


def test_a_move_through_the_form_is_logged_too(admin_client_en, unit):
    village = unit("341122100003")  # 柳树村, moved from 城关镇 to 河口镇
    response = admin_client_en.post(f"/admin/accounts/orgunit/{village.pk}/change/", {
        "name": village.name, "kind": village.kind, "code": village.code, "is_active": "on",
        "treebeard_position": "sorted-child", "treebeard_ref_node": unit("341122101").pk})
    assert response.status_code == 302
    assert OrgUnit.objects.get_parent(OrgUnit.objects.get(pk=village.pk)).code == "341122101"
    assert LogEntry.objects.filter(object_id=str(village.pk),
                                   change_message__startswith="Moved from under").exists()


def test_a_township_audit_admin_reads_only_its_townships_events(as_user, clerk, unit):
    auditor = UserFactory(username="cg-audit")
    role_grant(user=auditor, role=Role.AUDIT_ADMIN, unit=unit(TOWNSHIP))
    own = CaseFactory(place_unit=unit(TOWNSHIP))
    other = CaseFactory(place_unit=unit("341122101"))
    for case in (own, other):
        CaseEvent.objects.create(case=case, kind=EventKind.NOTE, actor=clerk, at=timezone.now())
    shown = as_user(auditor).get("/admin/cases/caseevent/").context["cl"].result_list
    assert {event.case_id for event in shown} == {own.pk}

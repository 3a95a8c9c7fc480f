"""Every role's answer from the permission module, allowed and refused."""

import pytest

from accounts.choices import Role
from accounts.models import OrgUnit
from accounts.permissions import Action, can, scope
from accounts.services import role_grant, role_revoke

pytestmark = pytest.mark.django_db

USERS = ("clerk", "handler", "head", "leader", "supervisor", "grid", "mediator", "admin")

# Which demo user may do each page-level action anywhere; everyone else is refused.
PAGE_ACTIONS = {
    Action.CASE_REGISTER: {"clerk"},
    Action.CASE_LIST_UNIT: {"handler", "head"},
    Action.CASE_LIST_LED: {"leader"},
    Action.OVERDUE_AUDIT: {"supervisor"},
    Action.MEDIATION_REPORT: {"grid"},
    Action.MEDIATION_HANDLE: {"mediator"},
    Action.ADMINISTER: {"admin"},
}


@pytest.mark.parametrize("action", list(PAGE_ACTIONS))
@pytest.mark.parametrize("username", USERS)
def test_each_role_is_allowed_exactly_its_own_pages(demo_users, username, action):
    # given a demo user holding one role
    user = demo_users[username]
    # when / then
    assert can(user, action) is (username in PAGE_ACTIONS[action])


@pytest.mark.parametrize(
    ("username", "action", "code", "allowed"),
    [
        ("clerk", Action.CASE_REGISTER, "341122-D00", True),   # own office
        ("clerk", Action.CASE_REGISTER, "341122100", False),   # a township is not their office
        ("handler", Action.CASE_LIST_UNIT, "341122100", True),
        ("handler", Action.CASE_LIST_UNIT, "341122100001", True),  # a village below
        ("handler", Action.CASE_LIST_UNIT, "341122101", False),  # another township
        ("handler", Action.CASE_LIST_UNIT, "341122", False),     # the county above
        ("leader", Action.CASE_LIST_LED, "341122101002", True),  # second unit they lead
        ("leader", Action.CASE_LIST_LED, "341122102", False),
        ("supervisor", Action.OVERDUE_AUDIT, "341122200001-G2", True),  # whole county
        ("grid", Action.MEDIATION_REPORT, "341122100001-G1", True),
        ("grid", Action.MEDIATION_REPORT, "341122100001-G2", False),  # neighbouring grid
        ("mediator", Action.MEDIATION_HANDLE, "341122100002", True),
        ("mediator", Action.MEDIATION_HANDLE, "341122200", False),
        ("admin", Action.ADMINISTER, "341122-D03", True),
        ("supervisor", Action.ADMINISTER, "341122", False),
    ],
)
def test_jurisdiction_is_the_unit_and_everything_below(demo_users, unit, username, action,
                                                       code, allowed):
    assert can(demo_users[username], action, unit(code)) is allowed


def test_scope_lists_the_same_units_that_can_allows(demo_users):
    # given the leader, who leads two townships
    leader = demo_users["leader"]
    units = OrgUnit.objects.all()
    # when
    scoped = set(scope(leader, Action.CASE_LIST_LED, units))
    # then the list and the one-object answer agree on every unit
    assert scoped == {u for u in units if can(leader, Action.CASE_LIST_LED, u)}
    assert {u.code for u in scoped if u.depth == 2} == {"341122100", "341122101"}


def test_anonymous_and_inactive_users_may_do_nothing(demo_users, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    clerk = demo_users["clerk"]
    clerk.is_active = False
    assert not can(AnonymousUser(), Action.CASE_REGISTER)
    assert not can(clerk, Action.CASE_REGISTER)
    assert not scope(clerk, Action.CASE_REGISTER, OrgUnit.objects.all()).exists()


def test_granting_and_revoking_a_role_changes_the_answer(demo_users, unit):
    # given a handler without the clerk role
    handler = demo_users["handler"]
    office = unit("341122-D00")
    assert not can(handler, Action.CASE_REGISTER, office)
    # when the role is granted, then revoked
    role_grant(user=handler, role=Role.CLERK, unit=office)
    granted = can(handler, Action.CASE_REGISTER, office)
    role_revoke(user=handler, role=Role.CLERK, unit=office)
    # then
    assert granted
    assert not can(handler, Action.CASE_REGISTER, office)


def test_administrator_role_opens_and_closes_the_admin_site(demo_users, unit):
    handler = demo_users["handler"]
    role_grant(user=handler, role=Role.ADMINISTRATOR, unit=unit("341122"))
    handler.refresh_from_db()
    assert handler.is_staff
    role_revoke(user=handler, role=Role.ADMINISTRATOR, unit=unit("341122"))
    handler.refresh_from_db()
    assert not handler.is_staff

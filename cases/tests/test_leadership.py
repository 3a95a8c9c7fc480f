"""包案: assigning a responsible leader and marking duties (cases/services/leadership.py)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.choices import Role
from accounts.permissions import forget_roles
from accounts.services import role_grant
from cases.choices import CaseStatus, EventKind
from cases.models import Case, CaseEvent, Leadership
from cases.selectors import case_list
from cases.services.errors import CaseChangedByOther
from cases.services.leadership import case_assign_leader, leadership_mark_duty
from cases.services.transitions import case_accept
from cases.tests.factories import CaseFactory, demo_unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def case():
    """A hard case of 城关镇, signed for by the township."""
    return CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit("341122100"),
                       place_unit=demo_unit("341122100002"))


def assign(case, actor, leader, responsible, days=30):
    return case_assign_leader(case=case, actor=actor, leader=leader, measures="入户走访，协调补偿",
                              deadline=timezone.localdate() + timedelta(days=days),
                              responsible=responsible)


def test_the_office_puts_a_leader_in_charge(case, clerk, leader, head):
    # when
    leadership = assign(case, clerk, leader, head)
    # then the case names the leader, who now sees it among the cases they own
    assert Case.objects.get(pk=case.pk).leader == leader
    assert leadership.is_current and leadership.assigned_by == clerk
    assert case in case_list(user=leader)
    event = CaseEvent.objects.get(case=case, kind=EventKind.LEADER_ASSIGNED)
    assert event.details["leader"] == leader.pk


def test_a_new_leader_replaces_the_current_one(case, clerk, leader, head, supervisor, unit):
    from accounts.choices import Role
    from accounts.services import role_grant

    first = assign(case, clerk, leader, head)
    role_grant(user=supervisor, role=Role.LEADER, unit=unit("341122"))
    second = assign(case, clerk, supervisor, head)
    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert Leadership.objects.filter(case=case, is_current=True).count() == 1


@pytest.mark.parametrize("username", ["handler", "head", "leader", "supervisor", "grid"])
def test_only_the_petition_office_assigns(demo_users, case, username):
    with pytest.raises(PermissionDenied):
        assign(case, demo_users[username], demo_users["leader"], demo_users["head"])
    assert not Leadership.objects.exists()


def test_the_leader_must_be_a_leader_of_the_county(case, clerk, head, handler):
    with pytest.raises(ValidationError) as caught:
        assign(case, clerk, handler, head)  # a handler is no leader
    assert caught.value.code == "leader_county"


def test_the_leader_must_lead_the_place_of_the_matter(case, clerk, head, handler):
    # given a leader of another township of the county
    role_grant(user=handler, role=Role.LEADER, unit=demo_unit("341122101"))
    forget_roles(handler)
    with pytest.raises(ValidationError) as caught:
        assign(case, clerk, handler, head)
    assert caught.value.code == "leader_place"


def test_measures_and_a_future_deadline_are_needed(case, clerk, leader, head):
    with pytest.raises(ValidationError):
        case_assign_leader(case=case, actor=clerk, leader=leader, measures=" ",
                           deadline=timezone.localdate(), responsible=head)
    with pytest.raises(ValidationError):
        assign(case, clerk, leader, head, days=-1)


def test_assigning_on_a_stale_copy_is_refused(case, clerk, leader, handler, head):
    stale = Case.objects.get(pk=case.pk)
    case_accept(case=case, actor=handler)
    with pytest.raises(CaseChangedByOther):
        assign(stale, clerk, leader, head)
    assert not Leadership.objects.exists()


def test_only_the_leader_marks_duties_done(case, clerk, leader, head):
    leadership = assign(case, clerk, leader, head)
    with pytest.raises(PermissionDenied):
        leadership_mark_duty(leadership=leadership, actor=head, duty="investigated")
    done = leadership_mark_duty(leadership=leadership, actor=leader, duty="investigated")
    assert done.investigated_at is not None and done.handled_at is None
    event = CaseEvent.objects.get(case=case, kind=EventKind.DUTY_DONE)
    assert (event.actor, event.details["duty"]) == (leader, "investigated")
    with pytest.raises(ValidationError):
        leadership_mark_duty(leadership=leadership, actor=leader, duty="investigated")
    with pytest.raises(ValidationError):
        leadership_mark_duty(leadership=leadership, actor=leader, duty="celebrated")
